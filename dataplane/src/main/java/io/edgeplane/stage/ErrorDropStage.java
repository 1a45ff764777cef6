package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.DropSink;
import io.edgeplane.trace.PacketTracer;

/** The end of every drop: counts per reason (once per vector), hands the packet to the drop sink, frees it. */
public final class ErrorDropStage extends Stage
{
    private final DataplaneCounters counters;
    private final long[] perReason = new long[DropReason.maxId() + 1];
    private final DropSink sink;

    public ErrorDropStage(
        final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer, final DropSink sink)
    {
        super(StageId.ERROR_DROP, pool, counters, tracer);
        this.counters = counters;
        this.sink = sink;
    }

    /**
     * Count and report a packet as dropped under {@code reason} without freeing it: a stage that reuses the buffer
     * (an ICMP error built in place) calls this so the original still shows up in counters and drops.pcap.
     */
    public void record(final int h, final DropReason reason)
    {
        counters.drop(reason).incrementRelease();
        sink.dropped(pool, h, reason);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int reason = pool.dropReason(h);
            perReason[reason]++;
            sink.dropped(pool, h, DropReason.byId(reason));
            pool.free(h);
        }
        for (int reason = 0; reason < perReason.length; reason++)
        {
            if (perReason[reason] != 0)
            {
                counters.dropById(reason).getAndAddRelease(perReason[reason]);
                perReason[reason] = 0;
            }
        }
    }
}
