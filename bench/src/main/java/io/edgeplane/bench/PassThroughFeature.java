package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.stage.FeatureArc;
import io.edgeplane.stage.FeatureStage;
import io.edgeplane.trace.PacketTracer;

/** The cheapest possible feature on ip4-unicast: passes every packet on. Measures what an arc costs by itself. */
final class PassThroughFeature extends FeatureStage
{
    static final String NAME = "bench-pass-through";

    PassThroughFeature(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer)
    {
        super(NAME, FeatureArc.IP4_UNICAST, 100, pool, counters, tracer);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            continueArc(batch.handle(i));
        }
    }
}
