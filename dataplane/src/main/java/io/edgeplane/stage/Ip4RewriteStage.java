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

/**
 * The forwarding rewrite: egress port state, TTL (decremented with an RFC 1624 checksum update), egress MTU, the
 * next hop's MAC from the neighbor table, and a fresh Ethernet header (tagged when the egress port has a VLAN)
 * written right in front of the IPv4 header, so an ingress VLAN tag is removed without a copy.
 */
public final class Ip4RewriteStage extends Stage
{
    private final PortTable ports;
    private final NeighborTable neighbors;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final EthernetFlyweight ethernet = new EthernetFlyweight();

    public Ip4RewriteStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final NeighborTable neighbors)
    {
        super(StageId.IP4_REWRITE, pool, counters, tracer);
        this.ports = ports;
        this.neighbors = neighbors;
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int out = pool.outPort(h);
            final int l3 = pool.l3Offset(h);
            ip.wrap(buffer, l3);
            final boolean local = (pool.flags(h) & PacketPool.FLAG_LOCAL_ORIGIN) != 0;
            long mac = NeighborTable.NO_MAC;
            if (!ports.adminUp(out))
            {
                drop(h, DropReason.PORT_DOWN);
            }
            else if (!local && ip.ttl() <= 1)
            {
                onError(h, DropReason.IP4_TTL_EXPIRED);
            }
            else if (ip.totalLength() > ports.mtu(out))
            {
                onError(h, ip.dontFragment() ? DropReason.IP4_DF_TOO_BIG : DropReason.IP4_MTU_EXCEEDED);
            }
            else if ((mac = neighbors.lookup(out, pool.nextHopAddress(h))) == NeighborTable.NO_MAC)
            {
                onUnresolved(h, out);
            }
            else
            {
                if (!local)
                {
                    ip.decrementTtl();
                }
                final int vlan = ports.vlan(out);
                final int start = l3 - (vlan == 0 ? EthernetFlyweight.HEADER_LENGTH : EthernetFlyweight.VLAN_HEADER_LENGTH);
                ethernet.wrap(buffer, start).destination(mac).source(ports.mac(out));
                if (vlan == 0)
                {
                    ethernet.etherType(EthernetFlyweight.TYPE_IPV4);
                }
                else
                {
                    ethernet.etherType(EthernetFlyweight.TYPE_VLAN).vlanTci(vlan)
                        .vlanInnerType(EthernetFlyweight.TYPE_IPV4);
                }
                pool.frameLength(h, pool.frameOffset(h) + pool.frameLength(h) - start);
                pool.frameOffset(h, start);
                pool.next(h, StageId.INTERFACE_OUTPUT);
            }
            trace(h, out, pool.nextHopAddress(h), ip.ttl(), (int)(mac >>> 16));
        }
    }

    /** A forwarding error that deserves an ICMP error to the source (hook for the routing issue). */
    private void onError(final int h, final DropReason reason)
    {
        drop(h, reason);
    }

    private void onUnresolved(final int h, final int port)
    {
        drop(h, DropReason.NEIGHBOR_UNRESOLVED);
    }

    @Override
    public void formatTrace(final int port, final int nextHop, final int ttl, final int macHigh,
        final StringBuilder out)
    {
        out.append("port ").append(port).append(" next-hop ");
        Ipv4Address.append(out, nextHop).append(" ttl ").append(ttl);
    }
}
