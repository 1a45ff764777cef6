package io.edgeplane.stage;

import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.trace.PacketTracer;

/**
 * A stage that rides a {@link FeatureArc}: it runs only for packets of interfaces it is enabled on, and passes a
 * packet on with {@link #continueArc}, which picks the next enabled feature of that interface or the arc's end.
 */
public abstract class FeatureStage extends Stage
{
    private final String arcName;
    private final int order;
    private FeatureArc arc;
    private int position;

    /**
     * @param order the feature's place on the arc (lower runs first).
     */
    protected FeatureStage(final String name, final String arcName, final int order, final PacketPool pool,
        final DataplaneCounters counters, final PacketTracer tracer, final String... nextNames)
    {
        super(name, pool, counters, tracer, nextNames);
        this.arcName = arcName;
        this.order = order;
    }

    public final String arcName()
    {
        return arcName;
    }

    public final int order()
    {
        return order;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        arc = binder.arc(arcName);
        position = arc.position(name());
    }

    /** Send the packet to the next enabled feature of its interface, or to the arc's end. */
    protected final void continueArc(final int h)
    {
        pool.next(h, arc.after(arc.port(pool, h), position));
    }
}
