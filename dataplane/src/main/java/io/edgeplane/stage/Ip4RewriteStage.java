package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.trace.PacketTracer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * The forwarding rewrite: egress port state, TTL (decremented with an RFC 1624 checksum update), egress MTU, the
 * next hop's MAC from the neighbor table, and a fresh Ethernet header (tagged when the egress port has a VLAN)
 * written right in front of the IPv4 header, so an ingress VLAN tag is removed without a copy. Then the packet
 * enters the ip4-output feature arc of its egress port (which ends at interface-output).
 * <p>
 * TTL expiry and "DF set but too big" go to icmp-error; too big without DF is dropped (the gateway does not
 * fragment). An unresolved next hop drops the packet ({@code neighbor-unresolved}) and asks the
 * {@link NeighborResolver} for an ARP request (paced): holding packets would need a queue per neighbor, and senders
 * retransmit anyway, as with Linux's default of few queued packets.
 */
public final class Ip4RewriteStage extends Stage
{
    public static final String NAME = "ip4-rewrite";
    /** TTL, protocol and header checksum: the header's third 32-bit word. */
    private static final int TTL_WORD = Ipv4Flyweight.TTL_OFFSET;

    private final PortTable ports;
    private final NeighborTable neighbors;
    private final NeighborResolver resolver;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private FeatureArc output;
    private int icmpError;

    public Ip4RewriteStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final NeighborTable neighbors, final NeighborResolver resolver)
    {
        super(NAME, pool, counters, tracer, IcmpErrorStage.NAME);
        this.ports = ports;
        this.neighbors = neighbors;
        this.resolver = resolver;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        output = binder.arc(FeatureArc.IP4_OUTPUT);
        icmpError = binder.next(IcmpErrorStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        final FeatureArc output = this.output;
        // The last resolved (port, next hop) of this vector on an untagged port, its MAC and the 14-byte header it
        // gets, as the two overlapping words that write it (bytes 0-7 and 6-13): the packets of a vector mostly
        // share one next hop, as VPP's adjacency holds its rewrite string. Only this worker changes its neighbor
        // table, and not while a stage runs, so a vector-long cache cannot go stale.
        int cachedOut = -1;
        int cachedHop = 0;
        long cachedMac = NeighborTable.NO_MAC;
        long headerHead = 0;
        long headerTail = 0;
        // The last output port's state, read once per run of packets to it (the control thread may change it; a
        // vector sees it as it was when its first packet to the port was looked at, never a half-made state).
        int statePort = -1;
        boolean stateUp = false;
        int stateMtu = 0;
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int out = pool.outPort(h);
            final int hop = pool.nextHopAddress(h);
            final int l3 = pool.l3Offset(h);
            final boolean local = (pool.flags(h) & PacketPool.FLAG_LOCAL_ORIGIN) != 0;
            final boolean cached = out == cachedOut && hop == cachedHop;
            if (out != statePort)
            {
                statePort = out;
                stateUp = ports.adminUp(out);
                stateMtu = ports.mtu(out);
            }
            // Version to fragment offset, then TTL, protocol and checksum: two loads for every field used here.
            final long head = buffer.getLong(l3, NETWORK_ORDER);
            final int ttlWord = buffer.getInt(l3 + TTL_WORD, NETWORK_ORDER);
            final int ttl = ttlWord >>> 24;
            final long mac;
            if (!stateUp)
            {
                drop(h, DropReason.PORT_DOWN);
            }
            else if (!local && ttl <= 1)
            {
                dropVia(h, DropReason.IP4_TTL_EXPIRED, icmpError);
            }
            else if (((int)(head >>> 32) & 0xFFFF) > stateMtu)
            {
                if ((head & Ipv4Flyweight.FLAG_DF) != 0)
                {
                    dropVia(h, DropReason.IP4_DF_TOO_BIG, icmpError);
                }
                else
                {
                    drop(h, DropReason.IP4_MTU_EXCEEDED);
                }
            }
            else if ((mac = cached ? cachedMac : neighbors.lookup(out, hop)) == NeighborTable.NO_MAC)
            {
                drop(h, DropReason.NEIGHBOR_UNRESOLVED);
                resolver.requestFor(h, out, hop);
            }
            else
            {
                if (!local)
                {
                    buffer.putInt(l3 + TTL_WORD, Ipv4Flyweight.decrementedTtl(ttlWord), NETWORK_ORDER);
                }
                final int start;
                if (cached)
                {
                    start = l3 - EthernetFlyweight.HEADER_LENGTH;
                    buffer.putLong(start, headerHead);
                    buffer.putLong(start + 6, headerTail);
                }
                else
                {
                    final int vlan = ports.vlan(out);
                    start = l3 - EthernetFlyweight.headerLength(vlan);
                    ethernet.wrap(buffer, start).emit(mac, ports.mac(out), vlan, EthernetFlyweight.TYPE_IPV4);
                    if (vlan == 0)
                    {
                        cachedOut = out;
                        cachedHop = hop;
                        cachedMac = mac;
                        headerHead = buffer.getLong(start);
                        headerTail = buffer.getLong(start + 6);
                    }
                }
                pool.frameLength(h, pool.frameOffset(h) + pool.frameLength(h) - start);
                pool.frameOffset(h, start);
                pool.next(h, output.first(out));
            }
            if (pool.traced(h))
            {
                ip.wrap(buffer, l3);
                trace(h, out, hop, ip.ttl(), pool.dropReason(h) == DropReason.NEIGHBOR_UNRESOLVED.id() ? 1 : 0);
            }
        }
    }

    @Override
    public void formatTrace(final int port, final int nextHop, final int ttl, final int unresolved,
        final StringBuilder out)
    {
        out.append(ports.name(port)).append(" next-hop ");
        Ipv4Address.append(out, nextHop).append(" ttl ").append(ttl);
        if (unresolved != 0)
        {
            out.append(" (unresolved: ARP request)");
        }
    }
}
