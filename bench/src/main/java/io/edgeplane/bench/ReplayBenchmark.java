package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.control.replay.Traces;
import io.edgeplane.control.replay.TraceFileException;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.stage.Dataplane;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The replay path on the bundled demo (pcaps/demo): the preloaded demo trace looped through the demo config, every
 * decision it exercises included (ARP, ping, ECMP, ICMP errors, drops), outputs counted instead of written.
 * Run from the repository root (or set -Dedgeplane.home).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-XX:+UseTransparentHugePages")
public class ReplayBenchmark
{
    private Dataplane dataplane;
    private PreloadedTrace trace;
    private int position;
    private long outputs;
    private long timestamp;

    @Setup
    public void setUp() throws ConfigException, TraceFileException
    {
        final Path demo = Path.of(System.getProperty("edgeplane.home", ".")).resolve("pcaps/demo");
        trace = Traces.preload(demo.resolve("trace.pcap"));
        dataplane = new Dataplane(ConfigLoader.load(demo.resolve("config.json")), new PacketPool(1024),
            (port, pool, h) -> outputs++, (pool, h, reason) -> outputs++);
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long replayDemo()
    {
        final PreloadedTrace trace = this.trace;
        final int n = trace.count();
        int p = position;
        long ts = timestamp;
        for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
        {
            // Time moves on as in a long trace, so rate limits see a realistic clock.
            ts += 1_000;
            dataplane.receive(0, trace.buffer(), trace.offset(p), trace.length(p), p + 1, ts);
            p = p + 1 == n ? 0 : p + 1;
        }
        dataplane.flush();
        position = p;
        timestamp = ts;
        return outputs;
    }
}
