package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.trace.PacketTracer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.Arrays;
import java.util.List;

/**
 * One node of the packet graph (VPP's node). A stage names itself and the stages it may send packets to; the
 * {@link StageGraph} resolves those names to indices when it is assembled ({@link #bind}), so no stage hard-wires
 * another's id. {@link #process} walks a vector once and sets, for every packet, the next stage or a drop reason;
 * it never allocates. Every stage may drop (to {@value #ERROR_DROP}). Traced packets get one record per stage;
 * {@link #formatTrace} turns a record into text later, on another thread. Owned by the worker thread.
 */
public abstract class Stage
{
    public static final String ERROR_DROP = "error-drop";

    private final String name;
    private final List<String> nextNames;
    protected final PacketPool pool;
    protected final UnsafeBuffer buffer;
    protected final PacketTracer tracer;
    private final AtomicCounter packets;
    private final AtomicCounter vectors;
    private final AtomicCounter nanos;
    protected int id = -1;
    private int errorDrop = -1;

    /**
     * @param nextNames the stages this one sends packets to, besides {@value #ERROR_DROP} (always allowed).
     */
    protected Stage(final String name, final PacketPool pool, final DataplaneCounters counters,
        final PacketTracer tracer, final String... nextNames)
    {
        this.name = name;
        this.nextNames = List.copyOf(Arrays.asList(nextNames));
        this.pool = pool;
        this.buffer = pool.buffer();
        this.tracer = tracer;
        this.packets = counters.stage(name);
        this.vectors = counters.stageVectors(name);
        this.nanos = counters.stageNanos(name);
    }

    public final String name()
    {
        return name;
    }

    /** The index the graph gave this stage; valid after assembly. */
    public final int id()
    {
        return id;
    }

    /** The declared next stages (graph assembly checks they exist and orders the graph by them). */
    public final List<String> nextNames()
    {
        return nextNames;
    }

    /** True for a stage that consumes every packet it gets (transmit, drop): the graph moves nothing on. */
    public boolean terminal()
    {
        return false;
    }

    final void attach(final int id, final StageGraph.Binder binder)
    {
        this.id = id;
        this.errorDrop = binder.next(ERROR_DROP);
        bind(binder);
    }

    /** Resolve next-stage names and arcs to indices; called once when the graph is assembled. */
    protected void bind(final StageGraph.Binder binder)
    {
    }

    /**
     * Processes the vector and counts it once: packets, one vector, and the time it took (two clock reads per
     * vector, a fraction of a nanosecond per packet: VPP's {@code show runtime}). The graph calls this; benchmarks
     * may run one stage alone.
     */
    public final void run(final PacketBatch batch)
    {
        final int count = batch.count();
        final long start = System.nanoTime();
        process(batch);
        final long elapsed = System.nanoTime() - start;
        packets.getAndAddRelease(count);
        vectors.getAndAddRelease(1);
        nanos.getAndAddRelease(elapsed);
    }

    protected abstract void process(PacketBatch batch);

    protected final void drop(final int h, final DropReason reason)
    {
        pool.next(h, errorDrop);
        pool.dropReason(h, reason.id());
    }

    /**
     * Drop the packet under {@code reason} by way of another stage that handles it first (icmp-error tells the
     * source, then counts the drop).
     */
    protected final void dropVia(final int h, final DropReason reason, final int stage)
    {
        pool.next(h, stage);
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

    /** Append the stage-specific fields of one trace record (any thread: reads only immutable state). */
    public void formatTrace(final int a, final int b, final int c, final int d, final StringBuilder out)
    {
    }
}
