package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.proto.Checksum;
import io.edgeplane.proto.IcmpFlyweight;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.trace.PacketTracer;

/**
 * Packets addressed to the gateway itself. ICMP echo requests are turned into echo replies in place (addresses
 * swapped, type changed with an incremental checksum update, fresh TTL) and routed back through ip4-lookup, within
 * a rate limit of their own (a ping flood must not become a reply flood); every other protocol is dropped as
 * {@code ip4-local-unsupported}. Fragments are not reassembled.
 */
public final class Ip4LocalStage extends Stage
{
    public static final String NAME = "ip4-local";

    public static final int REPLY_TTL = 64;

    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final IcmpFlyweight icmp = new IcmpFlyweight();
    private final RateLimiter limiter;
    private int ip4Lookup;

    public Ip4LocalStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final int repliesPerSecond, final int burst)
    {
        super(NAME, pool, counters, tracer, Ip4LookupStage.NAME);
        this.limiter = new RateLimiter(repliesPerSecond, burst);
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
            ip.wrap(buffer, pool.l3Offset(h));
            int type = -1;
            if (ip.protocol() == Ipv4Flyweight.PROTOCOL_ICMP && !ip.isFragment())
            {
                final int headerLength = ip.headerLength();
                final int icmpLength = ip.totalLength() - headerLength;
                icmp.wrap(buffer, pool.l3Offset(h) + headerLength);
                type = icmp.type();
                if (type == IcmpFlyweight.TYPE_ECHO_REQUEST && icmp.code() == 0 && icmp.checksumValid(icmpLength))
                {
                    if (!limiter.admit(pool.timestampNanos(h)))
                    {
                        drop(h, DropReason.ICMP_ECHO_RATE_LIMITED);
                        trace(h, type, 0, 0, 0);
                        continue;
                    }
                    icmp.type(IcmpFlyweight.TYPE_ECHO_REPLY)
                        .checksum(Checksum.adjust16(icmp.checksum(), IcmpFlyweight.TYPE_ECHO_REQUEST << 8, 0));
                    final int source = ip.source();
                    ip.source(ip.destination()).destination(source).ttl(REPLY_TTL)
                        .flagsAndFragmentOffset(ip.flagsAndFragmentOffset() & Ipv4Flyweight.FLAG_DF)
                        .updateHeaderChecksum();
                    pool.flags(h, pool.flags(h) | PacketPool.FLAG_LOCAL_ORIGIN);
                    pool.next(h, ip4Lookup);
                    trace(h, type, 0, 0, 0);
                    continue;
                }
            }
            drop(h, DropReason.IP4_LOCAL_UNSUPPORTED);
            trace(h, type, 0, 0, 0);
        }
    }

    @Override
    public void formatTrace(final int type, final int b, final int c, final int d, final StringBuilder out)
    {
        if (type == IcmpFlyweight.TYPE_ECHO_REQUEST)
        {
            out.append("icmp echo request: reply");
        }
    }
}
