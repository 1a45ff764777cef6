package io.edgeplane.bench;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.stage.Dataplane;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The new-session rate of masquerade on one core: each measured invocation sends the first packet of 2^19 new UDP
 * flows (64 bytes, shuffled, 16 ports per inside host, 32 outside addresses) through the whole pipeline into an empty
 * table: the lookup that misses, the route check, the mapping with its port allocation, the session on both keys
 * and its timer, then the translation and the route. The table is emptied between invocations (not measured). The
 * score is nanoseconds per new session; 1e9 / score is sessions per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 8)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "-XX:+UseTransparentHugePages"})
public class NatNewFlowsBenchmark
{
    static final int FLOWS = 1 << 19;

    private Dataplane dataplane;
    private PreloadedTrace trace;
    private long transmitted;

    @Setup(Level.Trial)
    public void setUp() throws ConfigException
    {
        dataplane = new Dataplane(ConfigLoader.parse(String.format(NatBenchmark.CONFIG, NatBenchmark.pool())),
            new PacketPool(1024), (port, pool, h) -> transmitted++, DropSink.NONE);
        trace = NatBenchmark.flows(FLOWS);
    }

    @Setup(Level.Invocation)
    public void emptyTable()
    {
        dataplane.nat().table().clear();
    }

    @Benchmark
    @OperationsPerInvocation(FLOWS)
    public long create()
    {
        BenchLoops.frames(dataplane, trace, 1, 0, FLOWS);
        return transmitted;
    }

    @TearDown(Level.Invocation)
    public void checkCreated()
    {
        if (dataplane.nat().table().size() != FLOWS)
        {
            throw new IllegalStateException("expected " + FLOWS + " new sessions, have " +
                dataplane.nat().table().size());
        }
    }

    @TearDown(Level.Trial)
    public void checkForwarded()
    {
        BenchLoops.requireNoDrops(dataplane);
    }
}
