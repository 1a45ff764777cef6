package io.edgeplane.control.worker;

import io.edgeplane.route.NeighborTable;
import io.edgeplane.session.SessionTable;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.trace.TraceRecords;
import org.jctools.queues.MpscArrayQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The typed way the control plane reaches the workers' private state (neighbor caches, connection tables, tracers),
 * like Aeron's {@code DriverConductorProxy}: each method queues a command on every worker's bounded multi-producer
 * queue, which the worker drains, a few at a time, at the top of its duty cycle, and waits for all the answers
 * (changes reach every worker; readings are combined: neighbors merged, NAT figures summed, sessions listed from
 * each). Commands only copy data in or out; slow work (formatting a trace) happens on the caller's thread. Before
 * the workers start, the caller is the only thread and commands run inline.
 */
public final class WorkerProxy
{
    public static final int CAPACITY = 1024;
    public static final int DRAIN_LIMIT = 16;
    public static final long TIMEOUT_MILLIS = 2000;

    private final List<Dataplane> workers;
    private final List<MpscArrayQueue<Runnable>> queues = new ArrayList<>();
    private volatile boolean workerStarted;

    /** One neighbor entry as the API lists it. */
    public record Neighbor(int port, int ip, long mac, boolean isStatic, int vtep)
    {
    }

    public WorkerProxy(final Dataplane dataplane)
    {
        this(List.of(dataplane));
    }

    public WorkerProxy(final List<Dataplane> workers)
    {
        this.workers = List.copyOf(workers);
        workers.forEach(w -> queues.add(new MpscArrayQueue<>(CAPACITY)));
    }

    public int workers()
    {
        return workers.size();
    }

    /** From now on commands go through the queue. */
    public void workerStarted()
    {
        workerStarted = true;
    }

    /** Worker side: run at most {@link #DRAIN_LIMIT} queued commands (the first worker's). */
    public int drain()
    {
        return drain(0);
    }

    /** Worker {@code worker}'s side: run at most {@link #DRAIN_LIMIT} of its queued commands. */
    public int drain(final int worker)
    {
        return queues.get(worker).drain(Runnable::run, DRAIN_LIMIT);
    }

    public void addStaticNeighbor(final int port, final int ip, final long mac, final int vtep)
    {
        callAll(dp ->
        {
            dp.neighbors().addStatic(port, ip, mac, vtep);
            dp.resolver().forget(port, ip);
            return null;
        });
    }

    /** @return false when there was no such entry. */
    public boolean removeNeighbor(final int port, final int ip)
    {
        return callAll(dp ->
        {
            dp.resolver().forget(port, ip);
            return dp.neighbors().remove(port, ip);
        }).contains(true);
    }

    /** Remove every neighbor entry of a port (a tunnel going away), static and learned. */
    public void removeNeighbors(final int port)
    {
        callAll(dp ->
        {
            final List<Integer> addresses = new ArrayList<>();
            dp.neighbors().forEach((p, ip, mac, isStatic, vtep) ->
            {
                if (p == port)
                {
                    addresses.add(ip);
                }
            });
            for (final int ip : addresses)
            {
                dp.resolver().forget(port, ip);
                dp.neighbors().remove(port, ip);
            }
            return null;
        });
    }

    /** Every worker's neighbors merged: one entry per (port, address), the first worker's when they differ. */
    public List<Neighbor> neighbors()
    {
        final java.util.Map<Long, Neighbor> merged = new java.util.LinkedHashMap<>();
        for (final List<Neighbor> one : callAll(dp ->
        {
            final NeighborTable table = dp.neighbors();
            final List<Neighbor> list = new ArrayList<>(table.size());
            table.forEach((port, ip, mac, isStatic, vtep) -> list.add(new Neighbor(port, ip, mac, isStatic, vtep)));
            return list;
        }))
        {
            one.forEach(n -> merged.putIfAbsent((long)n.port() << 32 | n.ip() & 0xFFFF_FFFFL, n));
        }
        return new ArrayList<>(merged.values());
    }

    /** The NAT session table's figures, read on the worker. */
    public record NatStatistics(int sessions, int mappings, int capacity, long created, long expired)
    {
    }

    /** One session as the API lists it: both directions' tuples, its protocol, TCP state and idle time. */
    public record NatSession(int protocol, int[] original, int[] reply, int tcpState, long idleNanos,
        long expiresInNanos)
    {
    }

    /** @return the figures, or null before NAT was first configured. */
    public NatStatistics natStatistics()
    {
        NatStatistics sum = null;
        for (final NatStatistics one : callAll(dp ->
        {
            final SessionTable table = dp.sessions();
            return table == null ? null : new NatStatistics(table.size(), table.mappingCount(), table.capacity(),
                table.created(), table.expired());
        }))
        {
            if (one != null)
            {
                sum = sum == null ? one : new NatStatistics(sum.sessions() + one.sessions(),
                    sum.mappings() + one.mappings(), sum.capacity() + one.capacity(), sum.created() + one.created(),
                    sum.expired() + one.expired());
            }
        }
        return sum;
    }

    /**
     * Sessions with {@code address} in either tuple (0: any) and of {@code protocol} (0: any), at most {@code limit},
     * in table order.
     */
    public List<NatSession> natSessions(final int address, final int protocol, final int limit)
    {
        final List<NatSession> all = new ArrayList<>();
        for (final List<NatSession> one : callAll(dp -> natSessions(dp, address, protocol, limit)))
        {
            all.addAll(one.subList(0, Math.min(one.size(), limit - all.size())));
        }
        return all;
    }

    private static List<NatSession> natSessions(final Dataplane dp, final int address, final int protocol,
        final int limit)
    {
        {
            final List<NatSession> out = new ArrayList<>();
            final SessionTable table = dp.sessions();
            if (table == null)
            {
                return out;
            }
            final long now = dp.timers().nanos();
            table.forEach(s ->
            {
                if (matches(table, s, address, protocol))
                {
                    out.add(new NatSession(table.protocol(s), tuple(table, s, SessionTable.ORIGINAL),
                        tuple(table, s, SessionTable.REPLY), table.tcpState(s), now - table.lastSeen(s),
                        table.deadline(s) - now));
                }
                return out.size() < limit;
            });
            return out;
        }
    }

    /** Remove the sessions that match (as {@link #natSessions}); returns how many. */
    public int natFlush(final int address, final int protocol)
    {
        return callAll(dp ->
        {
            final SessionTable table = dp.sessions();
            if (table == null)
            {
                return 0;
            }
            final List<Integer> doomed = new ArrayList<>();
            table.forEach(s ->
            {
                if (matches(table, s, address, protocol))
                {
                    doomed.add(s);
                }
                return true;
            });
            doomed.forEach(table::delete);
            return doomed.size();
        }).stream().mapToInt(Integer::intValue).sum();
    }

    private static boolean matches(final SessionTable table, final int s, final int address, final int protocol)
    {
        if (protocol != 0 && table.protocol(s) != protocol)
        {
            return false;
        }
        if (address == 0)
        {
            return true;
        }
        for (int direction = 0; direction < 2; direction++)
        {
            if (table.source(s, direction) == address || table.destination(s, direction) == address)
            {
                return true;
            }
        }
        return false;
    }

    private static int[] tuple(final SessionTable table, final int s, final int direction)
    {
        return new int[] {table.source(s, direction), table.sourcePort(s, direction), table.destination(s, direction),
            table.destinationPort(s, direction)};
    }

    /** Clear the trace buffer and mark the next {@code packets} packets (to or from {@code address}, if not null). */
    public void startTrace(final int packets, final Integer address)
    {
        callAll(dp ->
        {
            dp.tracer().clear();
            if (address == null)
            {
                dp.tracer().traceFirst(packets);
            }
            else
            {
                dp.tracer().traceAddress(address, packets);
            }
            return null;
        });
    }

    /** Each worker's trace records (copied there); format them on this thread. */
    public List<TraceRecords> traceRecords()
    {
        return callAll(Dataplane::traceRecords);
    }

    /**
     * Run {@code command} on every worker (all queued first, so they run in parallel) and wait for every result, in
     * worker order.
     *
     * @throws IllegalStateException when a queue is full or a worker does not answer in time.
     */
    private <T> List<T> callAll(final Function<Dataplane, T> command)
    {
        final List<T> results = new ArrayList<>(workers.size());
        if (!workerStarted)
        {
            workers.forEach(dp -> results.add(command.apply(dp)));
            return results;
        }
        final List<CompletableFuture<T>> futures = new ArrayList<>(workers.size());
        for (int w = 0; w < workers.size(); w++)
        {
            final Dataplane dataplane = workers.get(w);
            final CompletableFuture<T> result = new CompletableFuture<>();
            futures.add(result);
            final Runnable task = () ->
            {
                try
                {
                    result.complete(command.apply(dataplane));
                }
                catch (final RuntimeException ex)
                {
                    result.completeExceptionally(ex);
                }
            };
            if (!queues.get(w).offer(task))
            {
                throw new IllegalStateException("worker " + w + " command queue full");
            }
        }
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
        for (int w = 0; w < futures.size(); w++)
        {
            try
            {
                results.add(futures.get(w).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the worker", ex);
            }
            catch (final ExecutionException ex)
            {
                throw new IllegalStateException(ex.getCause().getMessage(), ex.getCause());
            }
            catch (final TimeoutException ex)
            {
                throw new IllegalStateException((workers.size() > 1 ? "worker " + w : "worker") +
                    " did not answer within " + TIMEOUT_MILLIS + " ms", ex);
            }
        }
        return results;
    }
}
