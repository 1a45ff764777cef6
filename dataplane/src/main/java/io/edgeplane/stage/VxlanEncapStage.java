package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Checksum;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.UdpFlyweight;
import io.edgeplane.proto.VxlanFlyweight;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.trace.PacketTracer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * VXLAN encapsulation (RFC 7348), the next stage of a tunnel port's adjacencies (VPP's midchain): the inner packet
 * is routed here like through any port (TTL, tunnel MTU with ICMP fragmentation needed, the next hop's MAC), then
 * the inner Ethernet header, VXLAN (I flag, VNI), UDP (to the tunnel's port, from a port in 49152–65535 taken from
 * the inner flow hash so underlay ECMP spreads flows and keeps each on one path, checksum 0) and an outer IPv4
 * header (underlay address to the neighbor's VTEP, TTL 64, DF per the port's {@code df}, full header checksum) are
 * written into the headroom in front of it: no copy of the payload. The outer packet goes back to ip4-lookup, so
 * underlay routes, metrics and failover apply. An ARP reply on a tunnel port (a whole frame) is wrapped the same
 * way, to the VTEP the request came from.
 */
public final class VxlanEncapStage extends Stage
{
    public static final String NAME = "vxlan-encap";
    /** Outer Ethernet (added by ip4-rewrite), IPv4, UDP and VXLAN: what a tunnel adds to a frame. */
    public static final int OVERHEAD = EthernetFlyweight.HEADER_LENGTH + Ipv4Flyweight.MIN_HEADER_LENGTH +
        UdpFlyweight.HEADER_LENGTH + VxlanFlyweight.HEADER_LENGTH;
    private static final int OUTER = Ipv4Flyweight.MIN_HEADER_LENGTH + UdpFlyweight.HEADER_LENGTH +
        VxlanFlyweight.HEADER_LENGTH;
    private static final int OUTER_TTL = 64;
    /** Room ip4-rewrite needs in front of the outer IPv4 header for the underlay's Ethernet (+ VLAN) header. */
    private static final int UNDERLAY_L2 = EthernetFlyweight.VLAN_HEADER_LENGTH;

    private final PortTable ports;
    private final NeighborTable neighbors;
    private final Ipv4Flyweight inner = new Ipv4Flyweight();
    private final UdpFlyweight udp = new UdpFlyweight();
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private int ip4Lookup;
    private int icmpError;
    private int identification;

    public VxlanEncapStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final NeighborTable neighbors)
    {
        super(NAME, pool, counters, tracer, Ip4LookupStage.NAME, IcmpErrorStage.NAME);
        this.ports = ports;
        this.neighbors = neighbors;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        ip4Lookup = binder.next(Ip4LookupStage.NAME);
        icmpError = binder.next(IcmpErrorStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int tunnel = pool.outPort(h);
            int vtep = 0;
            if ((pool.flags(h) & PacketPool.FLAG_L2_FRAME) != 0)
            {
                vtep = pool.meta(h, PacketPool.FEATURE_OPAQUE);
                encapsulate(h, tunnel, pool.frameOffset(h), pool.frameLength(h), vtep, 0);
            }
            else
            {
                vtep = routeInner(h, tunnel);
            }
            if (pool.traced(h))
            {
                trace(h, tunnel, vtep, pool.next(h) == ip4Lookup ? udp.wrap(buffer, pool.l3Offset(h) +
                    Ipv4Flyweight.MIN_HEADER_LENGTH).sourcePort() : 0, 0);
            }
        }
    }

    /** Route the inner IPv4 packet out of the tunnel port (as ip4-rewrite does for a wire), then encapsulate. */
    private int routeInner(final int h, final int tunnel)
    {
        final int l3 = pool.l3Offset(h);
        inner.wrap(buffer, l3);
        final boolean local = (pool.flags(h) & PacketPool.FLAG_LOCAL_ORIGIN) != 0;
        final int nextHop = pool.nextHopAddress(h);
        final long mac;
        final int vtep;
        if (!ports.adminUp(tunnel))
        {
            drop(h, DropReason.PORT_DOWN);
            return 0;
        }
        if (!local && inner.ttl() <= 1)
        {
            dropVia(h, DropReason.IP4_TTL_EXPIRED, icmpError);
            return 0;
        }
        if (inner.totalLength() > ports.mtu(tunnel))
        {
            if (inner.dontFragment())
            {
                dropVia(h, DropReason.IP4_DF_TOO_BIG, icmpError);
            }
            else
            {
                drop(h, DropReason.IP4_MTU_EXCEEDED);
            }
            return 0;
        }
        if ((mac = neighbors.lookup(tunnel, nextHop)) == NeighborTable.NO_MAC)
        {
            drop(h, DropReason.NEIGHBOR_UNRESOLVED);
            return 0;
        }
        if ((vtep = neighbors.vtep(tunnel, nextHop)) == 0)
        {
            drop(h, DropReason.VXLAN_NO_VTEP);
            return 0;
        }
        if (!local)
        {
            inner.decrementTtl();
        }
        final int frame = l3 - EthernetFlyweight.HEADER_LENGTH;
        ethernet.wrap(buffer, frame).emit(mac, ports.mac(tunnel), 0, EthernetFlyweight.TYPE_IPV4);
        final int innerDf = inner.dontFragment() ? Ipv4Flyweight.FLAG_DF : 0;
        encapsulate(h, tunnel, frame, inner.totalLength() + EthernetFlyweight.HEADER_LENGTH, vtep, innerDf);
        return vtep;
    }

    /** Push VXLAN, UDP and the outer IPv4 header in front of the inner frame at {@code frame}. */
    private void encapsulate(final int h, final int tunnel, final int frame, final int frameLength, final int vtep,
        final int innerDf)
    {
        final int outerL3 = frame - OUTER;
        if (outerL3 - UNDERLAY_L2 < pool.slotBase(h))
        {
            drop(h, DropReason.VXLAN_NO_HEADROOM);
            return;
        }
        // The three headers as words (VXLAN one long, UDP one long, IPv4 two longs and an int), the IPv4 checksum
        // summed from the same words: five stores instead of a store per field and a pass over the header.
        buffer.putLong(frame - VxlanFlyweight.HEADER_LENGTH,
            (long)VxlanFlyweight.FLAG_VNI_VALID << 56 | (long)(ports.vni(tunnel) << 8) & 0xFFFF_FFFFL, NETWORK_ORDER);
        final int udpLength = UdpFlyweight.HEADER_LENGTH + VxlanFlyweight.HEADER_LENGTH + frameLength;
        final long sourcePort = 49152 | (pool.flowHash(h) & 0x3FFF);
        buffer.putLong(outerL3 + Ipv4Flyweight.MIN_HEADER_LENGTH, sourcePort << 48 |
            (long)ports.udpPort(tunnel) << 32 | (long)(udpLength & 0xFFFF) << 16, NETWORK_ORDER);
        final int df = switch (ports.dfMode(tunnel))
        {
            case PortTable.DF_SET -> Ipv4Flyweight.FLAG_DF;
            case PortTable.DF_INHERIT -> innerDf;
            default -> 0;
        };
        final long w0 = 0x45L << 56 | (long)((Ipv4Flyweight.MIN_HEADER_LENGTH + udpLength) & 0xFFFF) << 32 |
            (long)(identification++ & 0xFFFF) << 16 | df;
        final long w1 = (long)OUTER_TTL << 56 | (long)Ipv4Flyweight.PROTOCOL_UDP << 48 |
            (ports.address(ports.underlay(tunnel)) & 0xFFFF_FFFFL);
        final int checksum = Checksum.finish(Checksum.headerSum(w0, w1, vtep));
        buffer.putLong(outerL3, w0, NETWORK_ORDER);
        buffer.putLong(outerL3 + 8, w1 | (long)checksum << 32, NETWORK_ORDER);
        buffer.putInt(outerL3 + 16, vtep, NETWORK_ORDER);
        pool.frameOffset(h, outerL3);
        pool.frameLength(h, Ipv4Flyweight.MIN_HEADER_LENGTH + udpLength);
        pool.l3Offset(h, outerL3);
        pool.l4Offset(h, outerL3 + Ipv4Flyweight.MIN_HEADER_LENGTH);
        // The outer packet is the gateway's own: no TTL decrement, no ICMP errors about it.
        pool.flags(h, (pool.flags(h) | PacketPool.FLAG_LOCAL_ORIGIN) & ~PacketPool.FLAG_L2_FRAME);
        pool.next(h, ip4Lookup);
    }

    @Override
    public void formatTrace(final int tunnel, final int vtep, final int sourcePort, final int d,
        final StringBuilder out)
    {
        out.append(ports.name(tunnel)).append(" vni ").append(ports.vni(tunnel));
        if (vtep != 0)
        {
            out.append(" to vtep ");
            Ipv4Address.append(out, vtep).append(" udp ").append(sourcePort).append(" -> ")
                .append(ports.udpPort(tunnel));
        }
    }
}
