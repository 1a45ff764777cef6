package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.UdpFlyweight;
import io.edgeplane.proto.VxlanFlyweight;
import io.edgeplane.trace.PacketTracer;

/**
 * VXLAN decapsulation, a feature on ip4-unicast enabled on the underlay ports of tunnels: UDP to one of the port's
 * own addresses on a tunnel's UDP port is checked (lengths, the I flag) and matched by VNI to a tunnel port; the
 * inner frame then enters the graph again at ethernet-input on that tunnel port (validated and routed like any
 * frame: to local pods or onward), carrying the outer source address for ARP learning (the kernel's VTEP
 * learning). Everything else passes on. Unknown VNIs, missing I flags and short packets are counted drops.
 */
public final class VxlanDecapStage extends FeatureStage
{
    public static final String NAME = "vxlan-decap";
    /** After reverse-path filtering, before any translation. */
    public static final int ORDER = 20;

    private final PortTable ports;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final UdpFlyweight udp = new UdpFlyweight();
    private final VxlanFlyweight vxlan = new VxlanFlyweight();
    private int ethernetInput;

    public VxlanDecapStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports)
    {
        super(NAME, FeatureArc.IP4_UNICAST, ORDER, pool, counters, tracer, EthernetInputStage.NAME);
        this.ports = ports;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        super.bind(binder);
        ethernetInput = binder.next(EthernetInputStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int l3 = pool.l3Offset(h);
            ip.wrap(buffer, l3);
            final int underlay = pool.inPort(h);
            final int l4 = pool.l4Offset(h);
            if (ip.protocol() != Ipv4Flyweight.PROTOCOL_UDP || l4 == 0 || ip.isFragment() ||
                !ports.holds(underlay, ip.destination()) ||
                !ports.tunnelPort(underlay, udp.wrap(buffer, l4).destinationPort()))
            {
                continueArc(h);
                continue;
            }
            final int end = l3 + ip.totalLength();
            final int frame = l4 + UdpFlyweight.HEADER_LENGTH + VxlanFlyweight.HEADER_LENGTH;
            int tunnel = -1;
            if (end - frame < EthernetFlyweight.HEADER_LENGTH)
            {
                drop(h, DropReason.VXLAN_TRUNCATED);
            }
            else if (!vxlan.wrap(buffer, l4 + UdpFlyweight.HEADER_LENGTH).vniValid())
            {
                drop(h, DropReason.VXLAN_BAD_FLAGS);
            }
            else if ((tunnel = ports.tunnelFor(underlay, udp.destinationPort(), vxlan.vni())) < 0)
            {
                drop(h, DropReason.VXLAN_NO_SUCH_TUNNEL);
            }
            else
            {
                pool.meta(h, PacketPool.FEATURE_OPAQUE, ip.source());
                pool.frameOffset(h, frame);
                pool.frameLength(h, end - frame);
                pool.inPort(h, tunnel);
                pool.l3Offset(h, 0);
                pool.l4Offset(h, 0);
                pool.flags(h, 0);
                pool.next(h, ethernetInput);
            }
            if (pool.traced(h))
            {
                trace(h, tunnel, ip.source(), tunnel < 0 ? 0 : ports.vni(tunnel), 0);
            }
        }
    }

    @Override
    public void formatTrace(final int tunnel, final int vtep, final int vni, final int d, final StringBuilder out)
    {
        if (tunnel < 0)
        {
            return;
        }
        out.append("from vtep ");
        Ipv4Address.append(out, vtep).append(" vni ").append(vni).append(" into ").append(ports.name(tunnel));
    }
}
