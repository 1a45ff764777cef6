package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.trace.PacketTracer;

/** The end of every drop: counts per reason (once per vector), hands the packet to the drop sink, frees it. */
public final class ErrorDropStage extends Stage
{
    private final DataplaneCounters counters;
    private final long[] perReason = new long[DropReason.maxId() + 1];
    private final DropRecorder recorder;

    public ErrorDropStage(
        final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer, final DropRecorder recorder)
    {
        super(ERROR_DROP, pool, counters, tracer);
        this.counters = counters;
        this.recorder = recorder;
    }

    @Override
    public boolean terminal()
    {
        return true;
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int reason = pool.dropReason(h);
            perReason[reason]++;
            recorder.report(h, DropReason.byId(reason));
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
