package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.TcpFlyweight;
import io.edgeplane.proto.UdpFlyweight;
import io.edgeplane.trace.PacketTracer;

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
    private final UdpFlyweight udp = new UdpFlyweight();
    private final TcpFlyweight tcp = new TcpFlyweight();
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
        if (ip.version() != 4)
        {
            return DropReason.IP4_BAD_VERSION;
        }
        if (ip.ihl() < 5)
        {
            return DropReason.IP4_BAD_IHL;
        }
        final int headerLength = ip.headerLength();
        if (headerLength > available)
        {
            return DropReason.IP4_HEADER_TRUNCATED;
        }
        if (!ip.headerChecksumValid())
        {
            return DropReason.IP4_BAD_CHECKSUM;
        }
        final int totalLength = ip.totalLength();
        if (totalLength > available)
        {
            return DropReason.IP4_LENGTH_TOO_BIG;
        }
        if (totalLength < headerLength)
        {
            return DropReason.IP4_LENGTH_TOO_SMALL;
        }
        pool.frameLength(h, l3 - pool.frameOffset(h) + totalLength);

        final int source = ip.source();
        final int sourceHigh = source >>> 24;
        if (sourceHigh == 0 || sourceHigh == 127 || (source & 0xF000_0000) == 0xE000_0000 || source == -1)
        {
            return DropReason.IP4_SOURCE_MARTIAN;
        }
        final int destination = ip.destination();
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

        final int protocol = ip.protocol();
        if (ip.isFragment() &&
            (ip.flagsAndFragmentOffset() & Ipv4Flyweight.FRAGMENT_OFFSET_MASK) * 8 + totalLength - headerLength > 65535)
        {
            return DropReason.IP4_FRAGMENT_OVERFLOW;
        }
        int ports = 0;
        if (!ip.isNonFirstFragment())
        {
            final int l4 = l3 + headerLength;
            final int payload = totalLength - headerLength;
            final boolean fragmented = ip.isFragment();
            pool.l4Offset(h, l4);
            if (protocol == Ipv4Flyweight.PROTOCOL_UDP)
            {
                if (payload < UdpFlyweight.HEADER_LENGTH)
                {
                    return DropReason.UDP_TRUNCATED;
                }
                udp.wrap(buffer, l4);
                final int udpLength = udp.length();
                if (udpLength < UdpFlyweight.HEADER_LENGTH || !fragmented && udpLength > payload)
                {
                    return DropReason.UDP_BAD_LENGTH;
                }
                if (!fragmented)
                {
                    ports = udp.sourcePort() << 16 | udp.destinationPort();
                }
            }
            else if (protocol == Ipv4Flyweight.PROTOCOL_TCP)
            {
                if (payload < TcpFlyweight.MIN_HEADER_LENGTH)
                {
                    return DropReason.TCP_TRUNCATED;
                }
                tcp.wrap(buffer, l4);
                final int dataOffset = tcp.dataOffset();
                if (dataOffset < 5 || dataOffset << 2 > payload)
                {
                    return DropReason.TCP_BAD_OFFSET;
                }
                if (!fragmented)
                {
                    ports = tcp.sourcePort() << 16 | tcp.destinationPort();
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
