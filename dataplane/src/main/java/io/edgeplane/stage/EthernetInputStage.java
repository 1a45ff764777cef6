package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.trace.PacketTracer;

import static io.edgeplane.proto.EthernetFlyweight.BROADCAST_MAC;
import static io.edgeplane.proto.EthernetFlyweight.HEADER_LENGTH;
import static io.edgeplane.proto.EthernetFlyweight.VLAN_HEADER_LENGTH;
import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * L2 admission: frame length, the ingress port's administrative state, source MAC sanity, destination MAC (ours or
 * broadcast), one optional 802.1Q tag (its VID must be the port's VLAN, or 0 for priority tagging), then dispatch on
 * EtherType.
 */
public final class EthernetInputStage extends Stage
{
    public static final String NAME = "ethernet-input";

    private final PortTable ports;
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private int ip4Input;
    private int arpInput;

    public EthernetInputStage(
        final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer, final PortTable ports)
    {
        super(NAME, pool, counters, tracer, Ip4InputStage.NAME, ArpInputStage.NAME);
        this.ports = ports;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        ip4Input = binder.next(Ip4InputStage.NAME);
        arpInput = binder.next(ArpInputStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        // The last input port's state, read once per run of packets from it (a vector mostly comes from one port).
        int statePort = -1;
        boolean stateUp = false;
        long stateMac = 0;
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int offset = pool.frameOffset(h);
            final int length = pool.frameLength(h);
            int type = -1;
            int vid = -1;
            if (length < HEADER_LENGTH)
            {
                drop(h, DropReason.ETH_TRUNCATED);
                trace(h, type, vid, length, 0);
                continue;
            }
            final int port = pool.inPort(h);
            if (port != statePort)
            {
                statePort = port;
                stateUp = ports.adminUp(port);
                stateMac = ports.mac(port);
            }
            ethernet.wrap(buffer, offset);
            // Bytes 0-7 and 6-13 (the header is at least 14 bytes): destination, then source and EtherType.
            final long destination = buffer.getLong(offset, NETWORK_ORDER) >>> 16;
            final long sourceAndType = buffer.getLong(offset + 6, NETWORK_ORDER);
            if (!stateUp)
            {
                drop(h, DropReason.PORT_DOWN);
            }
            else if (EthernetFlyweight.isMulticast(sourceAndType >>> 16))
            {
                drop(h, DropReason.ETH_BAD_SOURCE_MAC);
            }
            else if (destination != BROADCAST_MAC && destination != stateMac)
            {
                drop(h, DropReason.ETH_NOT_FOR_US);
            }
            else
            {
                type = (int)sourceAndType & 0xFFFF;
                int l3 = offset + HEADER_LENGTH;
                boolean vlanOk = ports.vlan(port) == 0;
                if (type == EthernetFlyweight.TYPE_VLAN)
                {
                    if (length < VLAN_HEADER_LENGTH)
                    {
                        drop(h, DropReason.VLAN_TRUNCATED);
                        trace(h, type, vid, length, 0);
                        continue;
                    }
                    vid = ethernet.vlanTci() & 0x0FFF;
                    vlanOk = vid == ports.vlan(port) || vid == 0 && ports.vlan(port) == 0;
                    type = ethernet.vlanInnerType();
                    l3 = offset + VLAN_HEADER_LENGTH;
                    if (type == EthernetFlyweight.TYPE_VLAN || type == EthernetFlyweight.TYPE_QINQ)
                    {
                        vlanOk = false;
                    }
                }
                else if (type == EthernetFlyweight.TYPE_QINQ)
                {
                    vlanOk = false;
                }
                pool.l3Offset(h, l3);
                if (destination == BROADCAST_MAC)
                {
                    pool.flags(h, pool.flags(h) | PacketPool.FLAG_L2_BROADCAST);
                }
                if (!vlanOk)
                {
                    drop(h, DropReason.VLAN_MISMATCH);
                }
                else if (type == EthernetFlyweight.TYPE_IPV4)
                {
                    pool.next(h, ip4Input);
                }
                else if (type == EthernetFlyweight.TYPE_ARP)
                {
                    pool.next(h, arpInput);
                }
                else if (type == EthernetFlyweight.TYPE_IPV6)
                {
                    drop(h, DropReason.IP6_UNSUPPORTED);
                }
                else
                {
                    drop(h, DropReason.ETH_UNKNOWN_TYPE);
                }
            }
            trace(h, type, vid, length, 0);
        }
    }

    @Override
    public void formatTrace(final int type, final int vid, final int length, final int d, final StringBuilder out)
    {
        out.append("len ").append(length);
        if (type >= 0)
        {
            out.append(" type 0x").append(Integer.toHexString(type));
        }
        if (vid >= 0)
        {
            out.append(" vlan ").append(vid);
        }
    }
}
