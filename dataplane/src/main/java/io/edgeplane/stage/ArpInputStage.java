package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.ArpFlyweight;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.trace.PacketTracer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * ARP (RFC 826): answers requests for any address the receiving port holds (its own, NAT pool addresses,
 * LoadBalancer VIPs) by turning the request into the reply in place, and learns the sender's MAC (from requests
 * addressed to us, and from any ARP whose sender is already a known neighbor, as Linux does) into the neighbor
 * table, which also confirms the entry for ageing. The table is bounded: a flood of ARP from many addresses is
 * refused past its capacity ({@code neighbor-table-full}) instead of growing memory. Replies are consumed after
 * learning.
 */
public final class ArpInputStage extends Stage
{
    public static final String NAME = "arp-input";

    private final PortTable ports;
    private final NeighborTable neighbors;
    private final NeighborResolver resolver;
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final ArpFlyweight arp = new ArpFlyweight();
    private final AtomicCounter refused;
    private int interfaceOutput;
    private int vxlanEncap;

    /** Replies on tunnel ports go through {@value VxlanEncapStage#NAME}, the others straight to the wire. */
    public ArpInputStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final NeighborTable neighbors, final NeighborResolver resolver)
    {
        super(NAME, pool, counters, tracer, InterfaceOutputStage.NAME, VxlanEncapStage.NAME);
        this.ports = ports;
        this.neighbors = neighbors;
        this.resolver = resolver;
        this.refused = counters.event("neighbor-table-full");
    }

    /** Hears every valid ARP sender (several workers: the others learn it too, as each keeps its own cache). */
    @FunctionalInterface
    public interface Peers
    {
        void heard(int port, int ip, long mac, int vtep, boolean forUs);
    }

    private Peers peers;

    void peers(final Peers peers)
    {
        this.peers = peers;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        interfaceOutput = binder.next(InterfaceOutputStage.NAME);
        vxlanEncap = binder.next(VxlanEncapStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int l3 = pool.l3Offset(h);
            if (pool.frameOffset(h) + pool.frameLength(h) - l3 < ArpFlyweight.LENGTH)
            {
                drop(h, DropReason.ARP_TRUNCATED);
                trace(h, 0, 0, 0, 0);
                continue;
            }
            arp.wrap(buffer, l3);
            final int op = arp.operation();
            if (arp.hardwareType() != ArpFlyweight.HTYPE_ETHERNET ||
                arp.protocolType() != EthernetFlyweight.TYPE_IPV4 ||
                arp.hardwareLength() != 6 || arp.protocolLength() != 4 ||
                op != ArpFlyweight.OP_REQUEST && op != ArpFlyweight.OP_REPLY)
            {
                drop(h, DropReason.ARP_MALFORMED);
                trace(h, 0, 0, 0, 0);
                continue;
            }
            final int port = pool.inPort(h);
            final int senderIp = arp.senderIp();
            final int targetIp = arp.targetIp();
            final long senderMac = arp.senderMac();
            final boolean forUs = ports.holds(port, targetIp);
            final boolean senderValid = senderIp != 0 && ports.onLink(port, senderIp) &&
                !EthernetFlyweight.isMulticast(senderMac);
            if (senderValid && (forUs || neighbors.lookup(port, senderIp) != NeighborTable.NO_MAC))
            {
                // Through a tunnel, the outer source is the sender's VTEP (the kernel's learning).
                final int outcome = ports.isTunnel(port) ?
                    neighbors.learn(port, senderIp, senderMac, pool.meta(h, PacketPool.FEATURE_OPAQUE)) :
                    neighbors.learn(port, senderIp, senderMac);
                if (outcome == NeighborTable.REFUSED)
                {
                    refused.incrementRelease();
                }
                resolver.onLearned(port, senderIp, outcome);
            }
            if (senderValid && peers != null)
            {
                peers.heard(port, senderIp, senderMac, ports.isTunnel(port) ?
                    pool.meta(h, PacketPool.FEATURE_OPAQUE) : 0, forUs);
            }
            if (op == ArpFlyweight.OP_REQUEST)
            {
                if (forUs && !EthernetFlyweight.isMulticast(senderMac))
                {
                    final long ourMac = ports.mac(port);
                    arp.operation(ArpFlyweight.OP_REPLY)
                        .targetMac(senderMac).targetIp(senderIp)
                        .senderMac(ourMac).senderIp(targetIp);
                    ethernet.wrap(buffer, pool.frameOffset(h)).destination(senderMac).source(ourMac);
                    pool.outPort(h, port);
                    if (ports.isTunnel(port))
                    {
                        // Back through the tunnel to the VTEP the request came from (kept by vxlan-decap).
                        pool.flags(h, PacketPool.FLAG_LOCAL_ORIGIN | PacketPool.FLAG_L2_FRAME);
                        pool.next(h, vxlanEncap);
                    }
                    else
                    {
                        pool.flags(h, PacketPool.FLAG_LOCAL_ORIGIN);
                        pool.next(h, interfaceOutput);
                    }
                }
                else
                {
                    drop(h, DropReason.ARP_NOT_FOR_US);
                }
            }
            else
            {
                drop(h, DropReason.ARP_REPLY_CONSUMED);
            }
            trace(h, op, senderIp, targetIp, 0);
        }
    }

    @Override
    public void formatTrace(final int op, final int senderIp, final int targetIp, final int d, final StringBuilder out)
    {
        if (op == 0)
        {
            return;
        }
        out.append(op == ArpFlyweight.OP_REQUEST ? "request who-has " : "reply ");
        Ipv4Address.append(out, targetIp).append(" tell ");
        Ipv4Address.append(out, senderIp);
    }
}
