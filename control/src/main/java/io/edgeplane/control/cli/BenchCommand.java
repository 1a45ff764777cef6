package io.edgeplane.control.cli;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.control.replay.TraceFileException;
import io.edgeplane.control.replay.Traces;
import io.edgeplane.counters.DataplaneCounters.StageRuntime;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.FlowDispatch;
import io.edgeplane.stage.Workers;
import io.edgeplane.port.PortTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Benchmark a configuration with your own traffic: the trace is preloaded and looped through the pipeline in memory
 * (timestamps moved forward each lap, so rate limits and timers see time pass), on one core or on several workers
 * (each its share of the trace, spread by source address as the kernel would), for a number of seconds after one
 * second of warm-up; then the rate and the per-stage runtime table of the measured window.
 */
@Command(name = "bench", description = "Loop a trace through a config in memory and report the rate and per-stage " +
    "costs (for JMH benchmarks use ./edgeplane bench without --config).")
public final class BenchCommand implements Callable<Integer>
{
    private static final long WARM_UP_NANOS = 1_000_000_000L;

    @Option(names = "--config", required = true)
    Path config;

    @Option(names = "--in", required = true, description = "trace (pcap or pcapng)")
    Path in;

    @Option(names = "--seconds", defaultValue = "10", description = "measured seconds (default 10)")
    double seconds;

    @Option(names = "--in-port", description = "port every frame arrives on (default: as replay)")
    String inPort;

    @Option(names = "--routes", description = "route file added to the config")
    Path routes;

    @Option(names = "--workers", description = "worker threads (default: the config's workers, else 1)")
    Integer workers;

    /**
     * One worker's loop: its share of the trace, a vector at a time, plus what other workers hand it. After the
     * warm-up every worker meets at the barrier (the window's start); then it counts packets and bytes it was given.
     * {@code out}: packets, bytes, measured nanoseconds.
     */
    private static void run(final Dataplane dataplane, final PreloadedTrace trace, final List<Integer> share,
        final long lap, final long measureStart, final long end, final long[] out,
        final java.util.concurrent.CyclicBarrier warm)
    {
        final int[] frames = share.stream().mapToInt(Integer::intValue).toArray();
        long packets = 0;
        long bytes = 0;
        long laps = 0;
        int index = 0;
        boolean measuring = false;
        long windowStart = 0;
        long now = System.nanoTime();
        long id = (long)dataplane.worker() << 48;
        while (now < end)
        {
            for (int i = 0; i < PacketBatch.VECTOR_SIZE && frames.length > 0; i++)
            {
                final int f = frames[index];
                dataplane.receive(trace.port(f), trace.buffer(), trace.offset(f), trace.length(f), ++id,
                    trace.timestampNanos(f) + laps * lap);
                packets++;
                bytes += trace.length(f);
                if (++index == frames.length)
                {
                    index = 0;
                    laps++;
                }
            }
            dataplane.drainHandoff(PacketBatch.VECTOR_SIZE);
            dataplane.flush();
            now = System.nanoTime();
            if (!measuring && now >= measureStart)
            {
                try
                {
                    warm.await();
                }
                catch (final InterruptedException | java.util.concurrent.BrokenBarrierException ex)
                {
                    return;
                }
                measuring = true;
                windowStart = System.nanoTime();
                packets = 0;
                bytes = 0;
            }
        }
        out[0] = packets;
        out[1] = bytes;
        out[2] = now - windowStart;
    }

    @Override
    public Integer call()
    {
        if (!(seconds > 0 && seconds <= 3600)) // NaN too
        {
            throw new Main.UserError("--seconds: " + seconds + " not in (0, 3600]");
        }
        final DataplaneConfig dataplaneConfig = ReplayCommand.loadConfig(config, routes);
        final int port = inPort == null ? -1 : dataplaneConfig.portIndex(inPort);
        if (inPort != null && port < 0)
        {
            throw new Main.UserError("--in-port: unknown port " + inPort);
        }
        final PreloadedTrace trace;
        try
        {
            trace = Traces.preload(in, dataplaneConfig, port);
        }
        catch (final TraceFileException ex)
        {
            throw new Main.UserError(ex.getMessage());
        }
        if (trace.count() == 0)
        {
            throw new Main.UserError(in + ": no frames");
        }
        final int count = workers != null ? workers : dataplaneConfig.workersOr(1);
        if (count < 1 || count > DataplaneConfig.MAX_WORKERS)
        {
            throw new Main.UserError("--workers: " + count + " not in 1.." + DataplaneConfig.MAX_WORKERS);
        }
        final long[][] sent = new long[count][8]; // one row per worker thread, apart from the others' cache lines
        final Workers group;
        try
        {
            group = new Workers(dataplaneConfig, count, Workers.multiplierFor(dataplaneConfig.flowHashSeed()),
                Dataplane.DEFAULT_POOL_SLOTS, new PortTable(dataplaneConfig.ports()), null,
                w -> (p, pool, h) -> sent[w][0]++, DropSink.NONE, List.of());
        }
        catch (final io.edgeplane.config.ConfigException ex)
        {
            throw new Main.UserError(ex.getMessage());
        }
        // Each worker gets the frames the kernel would give it (spread by source address); frames whose flow another
        // worker owns cross over the rings, as in the gateway.
        final List<List<Integer>> shares = new ArrayList<>();
        for (int w = 0; w < count; w++)
        {
            shares.add(new ArrayList<>());
        }
        for (int i = 0; i < trace.count(); i++)
        {
            shares.get(FlowDispatch.arrival(trace.buffer(), trace.offset(i), trace.length(i), group.multiplier(),
                count)).add(i);
        }
        final long lap = trace.timestampNanos(trace.count() - 1) - trace.timestampNanos(0) + 1_000_000L;
        final long start = System.nanoTime();
        final long measureStart = start + WARM_UP_NANOS;
        final long end = measureStart + (long)(seconds * 1e9);
        final long[][] measured = new long[count][8];
        final List<StageRuntime>[] before = new List[1];
        final long[] sentBefore = new long[count];
        final java.util.concurrent.CyclicBarrier warm = new java.util.concurrent.CyclicBarrier(count, () ->
        {
            before[0] = group.counters().runtime();
            for (int w = 0; w < count; w++)
            {
                sentBefore[w] = sent[w][0];
            }
        });
        final Thread[] threads = new Thread[count];
        for (int w = 0; w < count; w++)
        {
            final int worker = w;
            threads[w] = new Thread(() -> run(group.get(worker), trace, shares.get(worker), lap, measureStart, end,
                measured[worker], warm), "edgeplane-bench-" + w);
            threads[w].start();
        }
        for (final Thread thread : threads)
        {
            try
            {
                thread.join();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
        long packets = 0;
        long bytes = 0;
        long transmitted = 0;
        for (int w = 0; w < count; w++)
        {
            packets += measured[w][0];
            bytes += measured[w][1];
            transmitted += sent[w][0] - sentBefore[w];
        }
        final double elapsed = Math.max(1, measured[0][2]) / 1e9;
        final List<StageRuntime> window = new ArrayList<>();
        final List<StageRuntime> after = group.counters().runtime();
        for (int i = 0; i < after.size(); i++)
        {
            window.add(after.get(i).since(before[0] != null && i < before[0].size() ? before[0].get(i) : null));
        }
        System.out.printf("%s through %s: %,d packets in %.2f s on %s%n", in.getFileName(),
            config.getFileName(), packets, elapsed, count == 1 ? "one core" : count + " workers");
        System.out.printf("  %.2f Mpps, %.2f Gbps in (frames as captured), %,d transmitted%n",
            packets / elapsed / 1e6, bytes * 8 / elapsed / 1e9, transmitted);
        if (count > 1)
        {
            final StringBuilder spread = new StringBuilder("  per worker (frames it was given):");
            for (int w = 0; w < count; w++)
            {
                spread.append(String.format(" %,d", measured[w][0]));
            }
            final var events = group.counters().snapshot().events;
            System.out.println(spread + String.format("; handed over %,d", events.getOrDefault("handoff-out", 0L)));
        }
        System.out.print(RuntimeTable.format(window));
        return 0;
    }
}
