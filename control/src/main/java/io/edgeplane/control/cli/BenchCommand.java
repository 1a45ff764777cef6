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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Benchmark a configuration with your own traffic: the trace is preloaded and looped through the pipeline in memory
 * (timestamps moved forward each lap, so rate limits and timers see time pass), one core, for a number of seconds
 * after one second of warm-up; then the rate and the per-stage runtime table of the measured window.
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

    @Override
    public Integer call()
    {
        if (seconds <= 0 || seconds > 3600)
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
        final long[] sent = new long[1];
        final Dataplane dataplane;
        try
        {
            dataplane = new Dataplane(dataplaneConfig, new PacketPool(Dataplane.DEFAULT_POOL_SLOTS),
                (p, pool, h) -> sent[0]++, DropSink.NONE);
        }
        catch (final io.edgeplane.config.ConfigException ex)
        {
            throw new Main.UserError(ex.getMessage());
        }
        final long lap = trace.timestampNanos(trace.count() - 1) - trace.timestampNanos(0) + 1_000_000L;
        long bytes = 0;
        long packets = 0;
        long laps = 0;
        int index = 0;
        List<StageRuntime> before = null;
        long sentBefore = 0;
        long measureStart = 0;
        final long start = System.nanoTime();
        final long end = start + WARM_UP_NANOS + (long)(seconds * 1e9);
        long now = start;
        while (now < end)
        {
            for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
            {
                dataplane.receive(trace.port(index), trace.buffer(), trace.offset(index), trace.length(index),
                    packets + 1, trace.timestampNanos(index) + laps * lap);
                if (before != null)
                {
                    bytes += trace.length(index);
                }
                packets++;
                if (++index == trace.count())
                {
                    index = 0;
                    laps++;
                }
            }
            dataplane.flush();
            now = System.nanoTime();
            if (before == null && now - start >= WARM_UP_NANOS)
            {
                before = dataplane.counters().runtime();
                sentBefore = sent[0];
                measureStart = now;
                packets = 0;
                bytes = 0;
            }
        }
        final double elapsed = (now - measureStart) / 1e9;
        final List<StageRuntime> window = new ArrayList<>();
        final List<StageRuntime> after = dataplane.counters().runtime();
        for (int i = 0; i < after.size(); i++)
        {
            window.add(after.get(i).since(i < before.size() ? before.get(i) : null));
        }
        System.out.printf("%s through %s: %,d packets in %.2f s on one core%n", in.getFileName(),
            config.getFileName(), packets, elapsed);
        System.out.printf("  %.2f Mpps, %.2f Gbps in (frames as captured), %,d transmitted%n",
            packets / elapsed / 1e6, bytes * 8 / elapsed / 1e9, sent[0] - sentBefore);
        System.out.print(RuntimeTable.format(window));
        return 0;
    }
}
