package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.ArpFlyweight;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.trace.PacketTracer;
import org.agrona.collections.Long2LongHashMap;

/**
 * The forwarding rewrite: egress port state, TTL (decremented with an RFC 1624 checksum update), egress MTU, the
 * next hop's MAC from the neighbor table, and a fresh Ethernet header (tagged when the egress port has a VLAN)
 * written right in front of the IPv4 header, so an ingress VLAN tag is removed without a copy.
 * <p>
 * TTL expiry and "DF set but too big" go to icmp-error; too big without DF is dropped (the gateway does not
 * fragment). An unresolved next hop drops the packet ({@code neighbor-unresolved}) and sends an ARP request for
 * it from a fresh pool slot, at most one per neighbor per second: holding packets would need a queue per
 * neighbor, and senders retransmit anyway, as with Linux's default of few queued packets.
 */
public final class Ip4RewriteStage extends Stage
{
    private final PortTable ports;
    private final NeighborTable neighbors;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final ArpFlyweight arp = new ArpFlyweight();
    private final Long2LongHashMap lastArpRequest = new Long2LongHashMap(Long.MIN_VALUE);
    private Pipeline pipeline;

    public Ip4RewriteStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final NeighborTable neighbors)
    {
        super(StageId.IP4_REWRITE, pool, counters, tracer);
        this.ports = ports;
        this.neighbors = neighbors;
    }

    /** ARP requests are injected into the pipeline that runs this stage. */
    public void pipeline(final Pipeline pipeline)
    {
        this.pipeline = pipeline;
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
                dropWithIcmpError(h, DropReason.IP4_TTL_EXPIRED);
            }
            else if (ip.totalLength() > ports.mtu(out))
            {
                if (ip.dontFragment())
                {
                    dropWithIcmpError(h, DropReason.IP4_DF_TOO_BIG);
                }
                else
                {
                    drop(h, DropReason.IP4_MTU_EXCEEDED);
                }
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
                final int start = l3 -
                    (vlan == 0 ? EthernetFlyweight.HEADER_LENGTH : EthernetFlyweight.VLAN_HEADER_LENGTH);
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
            if (pool.traced(h))
            {
                trace(h, out, pool.nextHopAddress(h), ip.ttl(),
                    pool.dropReason(h) == DropReason.NEIGHBOR_UNRESOLVED.id() ? 1 : 0);
            }
        }
    }

    private void onUnresolved(final int h, final int port)
    {
        drop(h, DropReason.NEIGHBOR_UNRESOLVED);
        final int target = pool.nextHopAddress(h);
        final long key = (long)port << 32 | (target & 0xFFFF_FFFFL);
        final long now = pool.timestampNanos(h);
        final long last = lastArpRequest.get(key);
        if (last != Long.MIN_VALUE && now - last < 1_000_000_000L && now >= last)
        {
            return;
        }
        final int request = pool.allocate();
        if (request == PacketPool.NO_PACKET)
        {
            return;
        }
        if (lastArpRequest.size() >= 4096)
        {
            lastArpRequest.clear();
        }
        lastArpRequest.put(key, now);
        final int vlan = ports.vlan(port);
        final int start = pool.frameOffset(request);
        final int l3 = start + (vlan == 0 ? EthernetFlyweight.HEADER_LENGTH : EthernetFlyweight.VLAN_HEADER_LENGTH);
        ethernet.wrap(buffer, start).destination(EthernetFlyweight.BROADCAST_MAC).source(ports.mac(port));
        if (vlan == 0)
        {
            ethernet.etherType(EthernetFlyweight.TYPE_ARP);
        }
        else
        {
            ethernet.etherType(EthernetFlyweight.TYPE_VLAN).vlanTci(vlan).vlanInnerType(EthernetFlyweight.TYPE_ARP);
        }
        arp.wrap(buffer, l3).ethernetIpv4(ArpFlyweight.OP_REQUEST)
            .senderMac(ports.mac(port)).senderIp(ports.address(port)).targetMac(0).targetIp(target);
        pool.frameLength(request, l3 - start + ArpFlyweight.LENGTH);
        pool.l3Offset(request, l3);
        pool.inPort(request, port);
        pool.outPort(request, port);
        pool.packetId(request, pool.packetId(h));
        pool.timestampNanos(request, now);
        pool.traced(request, pool.traced(h));
        pool.flags(request, PacketPool.FLAG_LOCAL_ORIGIN);
        pipeline.inject(request, StageId.INTERFACE_OUTPUT);
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
