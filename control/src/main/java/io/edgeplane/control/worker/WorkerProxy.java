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
 * The typed way the control plane reaches a worker's private state (neighbor table, tracer), like Aeron's
 * {@code DriverConductorProxy}: each method queues a command on a bounded multi-producer queue that the worker drains,
 * a few at a time, at the top of its duty cycle, and waits for the answer. Commands only copy data in or out; slow
 * work (formatting a trace) happens on the caller's thread. Before the worker starts, the caller is the only thread
 * and commands run inline.
 */
public final class WorkerProxy
{
    public static final int CAPACITY = 1024;
    public static final int DRAIN_LIMIT = 16;
    public static final long TIMEOUT_MILLIS = 2000;

    private final MpscArrayQueue<Runnable> queue = new MpscArrayQueue<>(CAPACITY);
    private final Dataplane dataplane;
    private volatile boolean workerStarted;

    /** One neighbor entry as the API lists it. */
    public record Neighbor(int port, int ip, long mac, boolean isStatic, int vtep)
    {
    }

    public WorkerProxy(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
    }

    /** From now on commands go through the queue. */
    public void workerStarted()
    {
        workerStarted = true;
    }

    /** Worker side: run at most {@link #DRAIN_LIMIT} queued commands. */
    public int drain()
    {
        return queue.drain(Runnable::run, DRAIN_LIMIT);
    }

    public void addStaticNeighbor(final int port, final int ip, final long mac, final int vtep)
    {
        call(dp ->
        {
            dp.neighbors().addStatic(port, ip, mac, vtep);
            dp.resolver().forget(port, ip);
            return null;
        });
    }

    /** @return false when there was no such entry. */
    public boolean removeNeighbor(final int port, final int ip)
    {
        return call(dp ->
        {
            dp.resolver().forget(port, ip);
            return dp.neighbors().remove(port, ip);
        });
    }

    /** Remove every neighbor entry of a port (a tunnel going away), static and learned. */
    public void removeNeighbors(final int port)
    {
        call(dp ->
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

    public List<Neighbor> neighbors()
    {
        return call(dp ->
        {
            final NeighborTable table = dp.neighbors();
            final List<Neighbor> list = new ArrayList<>(table.size());
            table.forEach((port, ip, mac, isStatic, vtep) -> list.add(new Neighbor(port, ip, mac, isStatic, vtep)));
            return list;
        });
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
        return call(dp ->
        {
            final SessionTable table = dp.nat().table();
            return table == null ? null : new NatStatistics(table.size(), table.mappingCount(), table.capacity(),
                table.created(), table.expired());
        });
    }

    /**
     * Sessions with {@code address} in either tuple (0: any) and of {@code protocol} (0: any), at most {@code limit},
     * in table order.
     */
    public List<NatSession> natSessions(final int address, final int protocol, final int limit)
    {
        return call(dp ->
        {
            final List<NatSession> out = new ArrayList<>();
            final SessionTable table = dp.nat().table();
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
        });
    }

    /** Remove the sessions that match (as {@link #natSessions}); returns how many. */
    public int natFlush(final int address, final int protocol)
    {
        return call(dp ->
        {
            final SessionTable table = dp.nat().table();
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
        });
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
        call(dp ->
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

    /** A copy of the trace records; format it with {@link Dataplane#formatTrace(TraceRecords)} on this thread. */
    public TraceRecords traceRecords()
    {
        return call(Dataplane::traceRecords);
    }

    /**
     * Run {@code command} on the worker and wait for its result.
     *
     * @throws IllegalStateException when the queue is full or the worker does not answer in time.
     */
    private <T> T call(final Function<Dataplane, T> command)
    {
        if (!workerStarted)
        {
            return command.apply(dataplane);
        }
        final CompletableFuture<T> result = new CompletableFuture<>();
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
        if (!queue.offer(task))
        {
            throw new IllegalStateException("worker command queue full");
        }
        try
        {
            return result.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
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
            throw new IllegalStateException("worker did not answer within " + TIMEOUT_MILLIS + " ms", ex);
        }
    }
}
