package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.stage.Dataplane;

/** What the pipeline benchmarks share: one vector from a looped trace, and the check that nothing was dropped. */
final class BenchLoops
{
    private BenchLoops()
    {
    }

    /**
     * Receive one vector of frames from {@code trace} (a power-of-two count, looped) on {@code port} and process it.
     *
     * @return the next position in the trace.
     */
    static int vector(final Dataplane dataplane, final PreloadedTrace trace, final int port, final int position)
    {
        final int mask = trace.count() - 1;
        int p = position;
        for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
        {
            dataplane.receive(port, trace.buffer(), trace.offset(p), trace.length(p), p, 0);
            p = (p + 1) & mask;
        }
        dataplane.flush();
        return p;
    }

    /** Send {@code count} frames of the trace (whole vectors) from {@code position} on; returns the next position. */
    static int frames(final Dataplane dataplane, final PreloadedTrace trace, final int port, final int position,
        final int count)
    {
        int p = position;
        for (int v = 0; v < count / PacketBatch.VECTOR_SIZE; v++)
        {
            p = vector(dataplane, trace, port, p);
        }
        return p;
    }

    /** A benchmark whose traffic was dropped measured something else: fail it. */
    static void requireNoDrops(final Dataplane dataplane)
    {
        final var snapshot = dataplane.counters().snapshot();
        if (!snapshot.drops.isEmpty())
        {
            throw new IllegalStateException("benchmark traffic was dropped: " + snapshot.drops);
        }
    }
}
