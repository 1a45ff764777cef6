package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Checksum;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.TcpFlyweight;
import io.edgeplane.proto.UdpFlyweight;
import io.edgeplane.trace.PacketTracer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * IPv4 validation in the order Linux's {@code ip_rcv_core} checks: enough bytes for a header, version, IHL,
 * header within the frame, header checksum, total length against the frame and the header (then Ethernet padding
 * is trimmed); then martian addresses ({@code ip_route_input_slow}: also a source that is one of the gateway's own
 * addresses, and link-local 169.254/16 either way, RFC 3927 §7), options (source routes refused, RFC 7126), and L4
 * header sanity for the first fragment.
 * Computes the flow hash and the L4 offset for later stages, then enters the ip4-unicast feature arc of the
 * ingress port (which ends at ip4-lookup).
 */
public final class Ip4InputStage extends Stage
{
    public static final String NAME = "ip4-input";

    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private static final int LINK_LOCAL = 0xA9FE_0000;
    private static final int OPTION_END = 0;
    private static final int OPTION_NOP = 1;
    private static final int OPTION_LSRR = 131;
    private static final int OPTION_SSRR = 137;

    private final PortTable ports;
    private final int flowHashSeed;
    private FeatureArc unicast;

    public Ip4InputStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final int flowHashSeed)
    {
        super(NAME, pool, counters, tracer);
        this.ports = ports;
        this.flowHashSeed = flowHashSeed;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        unicast = binder.arc(FeatureArc.IP4_UNICAST);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        final FeatureArc unicast = this.unicast;
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final DropReason reason = validate(h);
            if (reason != null)
            {
                drop(h, reason);
                trace(h, 0, 0, 0, 0);
            }
            else
            {
                pool.next(h, unicast.first(pool.inPort(h)));
                if (tracer.armed())
                {
                    tracer.onIpv4(pool, h, ip.source(), ip.destination());
                }
                if (pool.traced(h))
                {
                    trace(h, ip.source(), ip.destination(), ip.protocol() << 8 | ip.ttl(), ip.totalLength());
                }
            }
        }
    }

    private DropReason validate(final int h)
    {
        final int l3 = pool.l3Offset(h);
        final int available = pool.frameOffset(h) + pool.frameLength(h) - l3;
        if (available < Ipv4Flyweight.MIN_HEADER_LENGTH)
        {
            return DropReason.IP4_TOO_SHORT;
        }
        ip.wrap(buffer, l3);
        // The fixed 20 bytes in three loads, every field taken from them (one load per field would be twelve).
        final long w0 = buffer.getLong(l3, NETWORK_ORDER);
        final long w1 = buffer.getLong(l3 + 8, NETWORK_ORDER);
        final int destination = buffer.getInt(l3 + 16, NETWORK_ORDER);
        final int versionIhl = (int)(w0 >>> 56);
        if (versionIhl >>> 4 != 4)
        {
            return DropReason.IP4_BAD_VERSION;
        }
        final int ihl = versionIhl & 0x0F;
        if (ihl < 5)
        {
            return DropReason.IP4_BAD_IHL;
        }
        final int headerLength = ihl << 2;
        if (headerLength > available)
        {
            return DropReason.IP4_HEADER_TRUNCATED;
        }
        if (headerLength == Ipv4Flyweight.MIN_HEADER_LENGTH ? Checksum.headerSum(w0, w1, destination) != 0xFFFF :
            !ip.headerChecksumValid())
        {
            return DropReason.IP4_BAD_CHECKSUM;
        }
        final int totalLength = (int)(w0 >>> 32) & 0xFFFF;
        if (totalLength > available)
        {
            return DropReason.IP4_LENGTH_TOO_BIG;
        }
        if (totalLength < headerLength)
        {
            return DropReason.IP4_LENGTH_TOO_SMALL;
        }
        pool.frameLength(h, l3 - pool.frameOffset(h) + totalLength);

        final int source = (int)w1;
        final int sourceHigh = source >>> 24;
        if (sourceHigh == 0 || sourceHigh == 127 || (source & 0xF000_0000) == 0xE000_0000 || source == -1)
        {
            return DropReason.IP4_SOURCE_MARTIAN;
        }
        final int destinationHigh = destination >>> 24;
        if (destinationHigh == 0 || destinationHigh == 127)
        {
            return DropReason.IP4_DESTINATION_MARTIAN;
        }
        if ((destination & 0xF000_0000) == 0xE000_0000 || destination == -1)
        {
            return DropReason.IP4_DESTINATION_MULTICAST;
        }
        if ((source & 0xFFFF_0000) == LINK_LOCAL || (destination & 0xFFFF_0000) == LINK_LOCAL)
        {
            return DropReason.IP4_LINK_LOCAL;
        }
        if (ports.isLocalAddress(source))
        {
            return DropReason.IP4_SOURCE_IS_LOCAL;
        }
        if (headerLength > Ipv4Flyweight.MIN_HEADER_LENGTH)
        {
            final DropReason options = checkOptions(l3, headerLength);
            if (options != null)
            {
                return options;
            }
        }

        final int protocol = (int)(w1 >>> 48) & 0xFF;
        final int flagsAndOffset = (int)w0 & 0xFFFF;
        final boolean fragmented = (flagsAndOffset & (Ipv4Flyweight.FLAG_MF | Ipv4Flyweight.FRAGMENT_OFFSET_MASK)) != 0;
        final int fragmentOffset = flagsAndOffset & Ipv4Flyweight.FRAGMENT_OFFSET_MASK;
        if (fragmented && fragmentOffset * 8 + totalLength - headerLength > 65535)
        {
            return DropReason.IP4_FRAGMENT_OVERFLOW;
        }
        int ports = 0;
        if (fragmentOffset == 0)
        {
            final int l4 = l3 + headerLength;
            final int payload = totalLength - headerLength;
            pool.l4Offset(h, l4);
            if (protocol == Ipv4Flyweight.PROTOCOL_UDP)
            {
                if (payload < UdpFlyweight.HEADER_LENGTH)
                {
                    return DropReason.UDP_TRUNCATED;
                }
                final long header = buffer.getLong(l4, NETWORK_ORDER);
                final int udpLength = (int)(header >>> 16) & 0xFFFF;
                if (udpLength < UdpFlyweight.HEADER_LENGTH || !fragmented && udpLength > payload)
                {
                    return DropReason.UDP_BAD_LENGTH;
                }
                if (!fragmented)
                {
                    ports = (int)(header >>> 32);
                }
            }
            else if (protocol == Ipv4Flyweight.PROTOCOL_TCP)
            {
                if (payload < TcpFlyweight.MIN_HEADER_LENGTH)
                {
                    return DropReason.TCP_TRUNCATED;
                }
                final int dataOffset = (buffer.getByte(l4 + TcpFlyweight.DATA_OFFSET_OFFSET) & 0xF0) >>> 4;
                if (dataOffset < 5 || dataOffset << 2 > payload)
                {
                    return DropReason.TCP_BAD_OFFSET;
                }
                if (!fragmented)
                {
                    ports = buffer.getInt(l4, NETWORK_ORDER);
                }
            }
            else if (protocol == Ipv4Flyweight.PROTOCOL_ICMP && payload < 8)
            {
                return DropReason.ICMP_TRUNCATED;
            }
        }
        pool.flowHash(h, FlowHash.hash(flowHashSeed, source, destination, protocol, ports));
        return null;
    }

    /** Walk the options (RFC 791): source routes are refused (RFC 7126, as Linux's accept_source_route=0). */
    private DropReason checkOptions(final int l3, final int headerLength)
    {
        int at = l3 + Ipv4Flyweight.MIN_HEADER_LENGTH;
        final int end = l3 + headerLength;
        while (at < end)
        {
            final int type = buffer.getByte(at) & 0xFF;
            if (type == OPTION_END)
            {
                return null;
            }
            if (type == OPTION_NOP)
            {
                at++;
                continue;
            }
            if (at + 1 >= end)
            {
                return DropReason.IP4_BAD_OPTIONS;
            }
            final int length = buffer.getByte(at + 1) & 0xFF;
            if (length < 2 || at + length > end)
            {
                return DropReason.IP4_BAD_OPTIONS;
            }
            if (type == OPTION_LSRR || type == OPTION_SSRR)
            {
                return DropReason.IP4_SOURCE_ROUTE;
            }
            at += length;
        }
        return null;
    }

    @Override
    public void formatTrace(final int source, final int destination, final int protoTtl, final int length,
        final StringBuilder out)
    {
        if (length == 0)
        {
            return;
        }
        Ipv4Address.append(out, source).append(" -> ");
        Ipv4Address.append(out, destination).append(" proto ").append(protoTtl >>> 8)
            .append(" ttl ").append(protoTtl & 0xFF).append(" len ").append(length);
    }
}
