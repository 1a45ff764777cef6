package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.IcmpFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.NetworkOrder;
import io.edgeplane.proto.TcpFlyweight;
import io.edgeplane.trace.PacketTracer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Turns a packet that could not be forwarded into the ICMP error for its source, in place: the original IPv4
 * header and up to 548 bytes of it stay where they are and the new IPv4 + ICMP headers are written into the
 * headroom in front (RFC 1812 4.3.2.3: as much as fits in 576 bytes). The error is routed like any packet.
 * The original is counted and reported under its drop reason first. No error is sent about an ICMP error, a
 * non-first fragment or a packet the gateway generated itself (RFC 1812 4.3.2.7), and errors are rate-limited
 * with a token bucket ({@link RateLimiter}, on the packets' own timestamps, so replays are deterministic).
 * One case is answered with a TCP reset instead, under the same limit: a segment other than a SYN to a service
 * without a ready backend (a connection whose backends all went), which ICMP would not end (RFC 1122 4.2.3.9: port
 * unreachable is a soft error to an established connection); a reset is never answered.
 */
public final class IcmpErrorStage extends Stage
{
    private static final int CODE_PORT_UNREACHABLE = 3;
    public static final String NAME = "icmp-error";

    public static final int MAX_QUOTED = 576 - Ipv4Flyweight.MIN_HEADER_LENGTH - IcmpFlyweight.HEADER_LENGTH;
    public static final int ERROR_TTL = 64;
    private static final int HEADERS = Ipv4Flyweight.MIN_HEADER_LENGTH + IcmpFlyweight.HEADER_LENGTH;

    private final PortTable ports;
    private final DropRecorder dropRecorder;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final IcmpFlyweight icmp = new IcmpFlyweight();
    private final TcpFlyweight tcpHeader = new TcpFlyweight();
    private final AtomicCounter rateLimited;
    private final AtomicCounter suppressed;
    private final RateLimiter limiter;
    private int identification;
    private int ip4Lookup;

    public IcmpErrorStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final DropRecorder dropRecorder, final int perSecond, final int burst)
    {
        super(NAME, pool, counters, tracer, Ip4LookupStage.NAME);
        this.ports = ports;
        this.dropRecorder = dropRecorder;
        this.rateLimited = counters.drop(DropReason.ICMP_RATE_LIMITED);
        this.suppressed = counters.drop(DropReason.ICMP_ERROR_SUPPRESSED);
        this.limiter = new RateLimiter(perSecond, burst);
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        ip4Lookup = binder.next(Ip4LookupStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final DropReason reason = DropReason.byId(pool.dropReason(h));
            final int l3 = pool.l3Offset(h);
            ip.wrap(buffer, l3);
            // A TCP segment to a service without backends: its flags decide between a reset and ICMP (-1: not one).
            final int tcpFlags = reason == DropReason.LB_NO_BACKEND ? tcpFlags(l3) : -1;
            if ((pool.flags(h) & PacketPool.FLAG_LOCAL_ORIGIN) != 0 || ip.isNonFirstFragment() || isIcmpError(l3) ||
                tcpFlags >= 0 && (tcpFlags & TcpFlyweight.FLAG_RST) != 0)
            {
                suppressed.incrementRelease();
                drop(h, reason);
                trace(h, -1, 0, 0, 0);
                continue;
            }
            if (!limiter.admit(pool.timestampNanos(h)))
            {
                rateLimited.incrementRelease();
                drop(h, reason);
                trace(h, -2, 0, 0, 0);
                continue;
            }
            dropRecorder.record(h, reason);
            if (tcpFlags >= 0 && (tcpFlags & TcpFlyweight.FLAG_SYN) == 0 && !ip.isFragment())
            {
                reset(h, l3);
                continue;
            }

            final int type;
            final int code;
            int rest = 0;
            if (reason == DropReason.IP4_TTL_EXPIRED)
            {
                type = IcmpFlyweight.TYPE_TIME_EXCEEDED;
                code = IcmpFlyweight.CODE_TTL_EXCEEDED_IN_TRANSIT;
            }
            else if (reason == DropReason.LB_NO_BACKEND)
            {
                type = IcmpFlyweight.TYPE_DESTINATION_UNREACHABLE;
                code = CODE_PORT_UNREACHABLE;
            }
            else if (reason == DropReason.IP4_DF_TOO_BIG)
            {
                type = IcmpFlyweight.TYPE_DESTINATION_UNREACHABLE;
                code = IcmpFlyweight.CODE_FRAGMENTATION_NEEDED;
                rest = ports.mtu(pool.outPort(h));
            }
            else
            {
                type = IcmpFlyweight.TYPE_DESTINATION_UNREACHABLE;
                code = IcmpFlyweight.CODE_NET_UNREACHABLE;
            }
            final int quoted = Math.min(ip.totalLength(), MAX_QUOTED);
            final int destination = ip.source();
            final int inPort = pool.inPort(h);
            final int newL3 = l3 - HEADERS;
            icmp.wrap(buffer, newL3 + Ipv4Flyweight.MIN_HEADER_LENGTH)
                .type(type).code(code).restOfHeader(rest).updateChecksum(IcmpFlyweight.HEADER_LENGTH + quoted);
            ip.wrap(buffer, newL3).versionAndIhl(4, 5).tos(0xC0).totalLength(HEADERS + quoted)
                .identification(identification++ & 0xFFFF).flagsAndFragmentOffset(0).ttl(ERROR_TTL)
                .protocol(Ipv4Flyweight.PROTOCOL_ICMP).source(ports.address(inPort)).destination(destination)
                .updateHeaderChecksum();
            pool.l3Offset(h, newL3);
            pool.frameOffset(h, newL3);
            pool.frameLength(h, HEADERS + quoted);
            pool.flags(h, pool.flags(h) | PacketPool.FLAG_LOCAL_ORIGIN);
            pool.flowHash(h, 0);
            pool.next(h, ip4Lookup);
            trace(h, type, code, destination, rest);
        }
    }

    /** The TCP flags of the packet at {@code l3} (wrapped), or -1 when it is not TCP with a whole header. */
    private int tcpFlags(final int l3)
    {
        if (ip.protocol() != Ipv4Flyweight.PROTOCOL_TCP ||
            ip.totalLength() < ip.headerLength() + TcpFlyweight.MIN_HEADER_LENGTH)
        {
            return -1;
        }
        return buffer.getByte(l3 + ip.headerLength() + TcpFlyweight.FLAGS_OFFSET) & 0xFF;
    }

    /**
     * A segment of an established connection to a service that has no backend left: answered as a host without
     * the connection answers (RFC 793, reset generation), from the service's address and port, so the client's
     * connection fails at once. ICMP port unreachable would only be a soft error to an established Linux socket,
     * which would retransmit into it for minutes. Written in place, a 40-byte IPv4 + TCP header.
     */
    private void reset(final int h, final int l3)
    {
        final int l4 = l3 + ip.headerLength();
        final int source = ip.source();
        final int destination = ip.destination();
        tcpHeader.wrap(buffer, l4);
        final int ports = buffer.getInt(l4, NetworkOrder.NETWORK_ORDER);
        final int sequence = (int)tcpHeader.sequence();
        final int acknowledgment = (int)tcpHeader.acknowledgment();
        final int flags = tcpHeader.flags();
        final int length = ip.totalLength() - ip.headerLength() - tcpHeader.dataOffset() * 4 +
            ((flags & TcpFlyweight.FLAG_FIN) != 0 ? 1 : 0);
        final int tcp = l3 + Ipv4Flyweight.MIN_HEADER_LENGTH;
        buffer.putInt(tcp, ports << 16 | ports >>> 16, NetworkOrder.NETWORK_ORDER);
        final boolean acked = (flags & TcpFlyweight.FLAG_ACK) != 0;
        buffer.putInt(tcp + TcpFlyweight.SEQUENCE_OFFSET, acked ? acknowledgment : 0, NetworkOrder.NETWORK_ORDER);
        buffer.putInt(tcp + TcpFlyweight.ACKNOWLEDGMENT_OFFSET, acked ? 0 : sequence + length,
            NetworkOrder.NETWORK_ORDER);
        tcpHeader.wrap(buffer, tcp)
            .bareHeader(acked ? TcpFlyweight.FLAG_RST : TcpFlyweight.FLAG_RST | TcpFlyweight.FLAG_ACK);
        ip.versionAndIhl(4, 5).tos(0).totalLength(Ipv4Flyweight.MIN_HEADER_LENGTH + TcpFlyweight.MIN_HEADER_LENGTH)
            .identification(identification++ & 0xFFFF).flagsAndFragmentOffset(0).ttl(ERROR_TTL)
            .protocol(Ipv4Flyweight.PROTOCOL_TCP).source(destination).destination(source).updateHeaderChecksum();
        tcpHeader.updateChecksum(destination, source, TcpFlyweight.MIN_HEADER_LENGTH);
        pool.frameOffset(h, l3);
        pool.frameLength(h, Ipv4Flyweight.MIN_HEADER_LENGTH + TcpFlyweight.MIN_HEADER_LENGTH);
        pool.flags(h, pool.flags(h) | PacketPool.FLAG_LOCAL_ORIGIN);
        pool.flowHash(h, 0);
        pool.next(h, ip4Lookup);
        trace(h, -3, 0, source, 0);
    }

    private boolean isIcmpError(final int l3)
    {
        if (ip.protocol() != Ipv4Flyweight.PROTOCOL_ICMP)
        {
            return false;
        }
        final int type = icmp.wrap(buffer, l3 + ip.headerLength()).type();
        return type == IcmpFlyweight.TYPE_DESTINATION_UNREACHABLE || type == IcmpFlyweight.TYPE_TIME_EXCEEDED ||
            type == 4 || type == 5 || type == 12;
    }

    @Override
    public void formatTrace(final int type, final int code, final int destination, final int mtu,
        final StringBuilder out)
    {
        if (type == -1)
        {
            out.append("no ICMP error (about an ICMP error, a fragment, or our own packet)");
            return;
        }
        if (type == -2)
        {
            out.append("ICMP error rate-limited");
            return;
        }
        if (type == -3)
        {
            out.append("tcp reset to ");
            Ipv4Address.append(out, destination).append(" (a segment of a connection no backend serves)");
            return;
        }
        out.append("icmp type ").append(type).append(" code ").append(code).append(" to ");
        Ipv4Address.append(out, destination);
        if (mtu != 0)
        {
            out.append(" mtu ").append(mtu);
        }
    }
}
