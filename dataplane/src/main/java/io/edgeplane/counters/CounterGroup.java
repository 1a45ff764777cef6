package io.edgeplane.counters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The counters of every worker, read together: each worker writes only its own {@link DataplaneCounters} (no
 * shared cache line on the hot path); readers sum them, and can still see each worker's own to judge the spread.
 * Port changes (a tunnel added or removed) reach every worker's set.
 */
public final class CounterGroup
{
    private final List<DataplaneCounters> workers;

    public CounterGroup(final List<DataplaneCounters> workers)
    {
        if (workers.isEmpty())
        {
            throw new IllegalArgumentException("no workers");
        }
        this.workers = List.copyOf(workers);
    }

    public static CounterGroup of(final DataplaneCounters counters)
    {
        return new CounterGroup(List.of(counters));
    }

    public int workers()
    {
        return workers.size();
    }

    /** Worker {@code i}'s own counters. */
    public DataplaneCounters worker(final int i)
    {
        return workers.get(i);
    }

    public void addPort(final int index, final String name)
    {
        workers.forEach(counters -> counters.addPort(index, name));
    }

    public void removePort(final int index)
    {
        workers.forEach(counters -> counters.removePort(index));
    }

    public long rxPackets(final int port)
    {
        long sum = 0;
        for (final DataplaneCounters counters : workers)
        {
            sum += counters.rxPackets(port).get();
        }
        return sum;
    }

    public long rxBytes(final int port)
    {
        long sum = 0;
        for (final DataplaneCounters counters : workers)
        {
            sum += counters.rxBytes(port).get();
        }
        return sum;
    }

    public long txPackets(final int port)
    {
        long sum = 0;
        for (final DataplaneCounters counters : workers)
        {
            sum += counters.txPackets(port).get();
        }
        return sum;
    }

    public long txBytes(final int port)
    {
        long sum = 0;
        for (final DataplaneCounters counters : workers)
        {
            sum += counters.txBytes(port).get();
        }
        return sum;
    }

    public long drop(final DropReason reason)
    {
        long sum = 0;
        for (final DataplaneCounters counters : workers)
        {
            sum += counters.drop(reason).get();
        }
        return sum;
    }

    /** The runtime table summed over workers (rows in graph order; every worker has the same graph). */
    public List<DataplaneCounters.StageRuntime> runtime()
    {
        final Map<String, DataplaneCounters.StageRuntime> rows = new LinkedHashMap<>();
        for (final DataplaneCounters counters : workers)
        {
            for (final DataplaneCounters.StageRuntime row : counters.runtime())
            {
                rows.merge(row.stage(), row, (a, b) -> new DataplaneCounters.StageRuntime(a.stage(),
                    a.packets() + b.packets(), a.vectors() + b.vectors(), a.nanos() + b.nanos()));
            }
        }
        return new ArrayList<>(rows.values());
    }

    /** The sum over workers, in the same shape and order as one worker's snapshot. */
    public DataplaneCounters.Snapshot snapshot()
    {
        return sum(perWorker());
    }

    public List<DataplaneCounters.Snapshot> perWorker()
    {
        final List<DataplaneCounters.Snapshot> list = new ArrayList<>(workers.size());
        workers.forEach(counters -> list.add(counters.snapshot()));
        return list;
    }

    /** Snapshots added up (drops in their reason order, as one worker lists them). */
    public static DataplaneCounters.Snapshot sum(final List<DataplaneCounters.Snapshot> snapshots)
    {
        if (snapshots.size() == 1)
        {
            return snapshots.get(0);
        }
        final DataplaneCounters.Snapshot total = new DataplaneCounters.Snapshot();
        for (final DataplaneCounters.Snapshot one : snapshots)
        {
            one.ports.forEach((port, values) ->
            {
                final Map<String, Long> into = total.ports.computeIfAbsent(port, p -> new LinkedHashMap<>());
                values.forEach((name, value) -> into.merge(name, value, Long::sum));
            });
            one.stages.forEach((name, value) -> total.stages.merge(name, value, Long::sum));
            one.events.forEach((name, value) -> total.events.merge(name, value, Long::sum));
        }
        for (final DropReason reason : DropReason.values())
        {
            long sum = 0;
            for (final DataplaneCounters.Snapshot one : snapshots)
            {
                sum += one.drop(reason);
            }
            if (sum != 0)
            {
                total.drops.put(reason.label(), sum);
            }
        }
        return total;
    }
}
