package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.trace.PacketTracer;

final class IcmpErrorPlaceholder extends Stage
{
    IcmpErrorPlaceholder(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer)
    {
        super(StageId.ICMP_ERROR, pool, counters, tracer);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0; i < batch.count(); i++)
        {
            pool.next(batch.handle(i), StageId.ERROR_DROP);
        }
    }
}
