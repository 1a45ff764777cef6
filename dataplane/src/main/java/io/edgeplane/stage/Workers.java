package io.edgeplane.stage;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.counters.CounterGroup;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.TxSink;
import io.edgeplane.route.RoutingTable;
import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Several workers' dataplanes built together: each its own pool, counters, tracer, neighbor cache and connection
 * table; ports, routes, NAT settings and services shared (published whole, read-only to workers); rings between
 * every pair ({@link Handoff}). The gateway runs each on its own thread; replay, tests and benchmarks can also drive
 * them all from one thread ({@link #receive}, {@link #flush}), which keeps their outputs deterministic: a frame goes
 * to the worker the kernel would give it ({@link FlowDispatch#arrival}), that worker hands it on if another owns
 * its flow, and the rings are emptied after every frame.
 */
public final class Workers
{
    private final Dataplane[] dataplanes;
    private final Handoff handoff;
    private final int multiplier;

    /**
     * @param count      workers (1: a plain dataplane, no rings, no dispatch).
     * @param multiplier the source-address spread's odd multiplier ({@link FlowDispatch#spread}).
     * @param txSinks    each worker's transmit sink.
     */
    public Workers(final DataplaneConfig config, final int count, final int multiplier, final int poolSlots,
        final PortTable ports, final RoutingTable routes, final IntFunction<TxSink> txSinks, final DropSink dropSink,
        final List<Dataplane.Feature> features) throws ConfigException
    {
        this.multiplier = multiplier | 1;
        this.handoff = count > 1 ? new Handoff(count) : null;
        this.dataplanes = new Dataplane[count];
        final RoutingTable shared = routes != null ? routes : Dataplane.routingTable(config, ports);
        for (int i = 0; i < count; i++)
        {
            dataplanes[i] = new Dataplane(config, new PacketPool(poolSlots), ports, shared, txSinks.apply(i), dropSink,
                features, new Dataplane.WorkerContext(i, count, i == 0 ? null : dataplanes[0], handoff,
                this.multiplier));
        }
    }

    /** The multiplier a config's seed gives (replay and benchmarks: the same spread on every run). */
    public static int multiplierFor(final int seed)
    {
        return (seed * 0x9E3779B9 + 0x7F4A7C15) | 1;
    }

    public int count()
    {
        return dataplanes.length;
    }

    public Dataplane get(final int worker)
    {
        return dataplanes[worker];
    }

    /** The first worker: the one the control plane configures (NAT, services, arcs reach the others from it). */
    public Dataplane first()
    {
        return dataplanes[0];
    }

    public int multiplier()
    {
        return multiplier;
    }

    public CounterGroup counters()
    {
        final List<DataplaneCounters> list = new ArrayList<>(dataplanes.length);
        for (final Dataplane dataplane : dataplanes)
        {
            list.add(dataplane.counters());
        }
        return new CounterGroup(list);
    }

    /** One thread drives all: receive a frame on the worker it arrives at; hand-offs are delivered at once. */
    public DropReason receive(final int port, final DirectBuffer frame, final int offset, final int length,
        final long packetId, final long timestampNanos)
    {
        if (dataplanes.length == 1)
        {
            return dataplanes[0].receive(port, frame, offset, length, packetId, timestampNanos);
        }
        final int worker = FlowDispatch.arrival(frame, offset, length, multiplier, dataplanes.length);
        for (final Dataplane dataplane : dataplanes)
        {
            // One clock for all, as live workers share the monotonic clock: idle workers' sessions age too.
            dataplane.advanceClock(timestampNanos);
        }
        final DropReason reason = dataplanes[worker].receive(port, frame, offset, length, packetId, timestampNanos);
        settle();
        return reason;
    }

    /** One thread drives all: process everything received, including what the workers hand each other. */
    public void flush()
    {
        do
        {
            for (final Dataplane dataplane : dataplanes)
            {
                // What the workers before this one learned or handed over is in before it processes its vector.
                settle();
                dataplane.flush();
            }
            settle();
        }
        while (handoff != null && !handoff.idle());
    }

    /** One thread drives all: advance every worker's clock. */
    public int tick(final long nowNanos)
    {
        int fired = 0;
        for (final Dataplane dataplane : dataplanes)
        {
            fired += dataplane.tick(nowNanos);
        }
        settle();
        return fired;
    }

    private void settle()
    {
        while (handoff != null && !handoff.idle())
        {
            for (final Dataplane dataplane : dataplanes)
            {
                dataplane.drainHandoff(Integer.MAX_VALUE);
            }
        }
    }
}
