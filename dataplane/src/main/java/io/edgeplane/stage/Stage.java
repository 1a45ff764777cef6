package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.trace.PacketTracer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * One node of the packet graph. {@link #process} walks a vector once and sets, for every packet, the next node
 * or a drop reason; it never allocates. Traced packets get one record per stage; {@link #formatTrace} turns a
 * record into text later, on another path.
 */
public abstract class Stage
{
    protected final int id;
    protected final PacketPool pool;
    protected final UnsafeBuffer buffer;
    protected final PacketTracer tracer;
    private final AtomicCounter packets;

    protected Stage(final int id, final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer)
    {
        this.id = id;
        this.pool = pool;
        this.buffer = pool.buffer();
        this.tracer = tracer;
        this.packets = counters.stage(StageId.name(id));
    }

    public final int id()
    {
        return id;
    }

    public final String name()
    {
        return StageId.name(id);
    }

    /** Called by the pipeline: processes the vector and counts it once. */
    public final void run(final PacketBatch batch)
    {
        process(batch);
        packets.getAndAddRelease(batch.count());
    }

    protected abstract void process(PacketBatch batch);

    protected final void drop(final int h, final DropReason reason)
    {
        pool.next(h, StageId.ERROR_DROP);
        pool.dropReason(h, reason.id());
    }

    /** Drop the packet under {@code reason} and let icmp-error tell its source (it counts the drop). */
    protected final void dropWithIcmpError(final int h, final DropReason reason)
    {
        pool.next(h, StageId.ICMP_ERROR);
        pool.dropReason(h, reason.id());
    }

    /**
     * Record this stage's decision for a traced packet; call after next/drop is set. Where computing the
     * arguments reads the packet, guard the call with {@code pool.traced(h)} so untraced packets pay nothing.
     */
    protected final void trace(final int h, final int a, final int b, final int c, final int d)
    {
        if (pool.traced(h))
        {
            tracer.record(pool.packetId(h), id, pool.next(h), pool.dropReason(h), a, b, c, d);
        }
    }

    /** Append the stage-specific fields of one trace record. */
    public void formatTrace(final int a, final int b, final int c, final int d, final StringBuilder out)
    {
    }
}
