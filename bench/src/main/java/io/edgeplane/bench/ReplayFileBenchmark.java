package io.edgeplane.bench;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.control.replay.Replay;
import io.edgeplane.control.replay.ReplayResult;
import io.edgeplane.control.replay.TraceFileException;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What {@code edgeplane replay} does once warm, file to files: a trace of 64-byte UDP frames (page cache warm) read,
 * routed by the demo config and written to per-port pcaps, again and again; each run builds its dataplane as the
 * command does. One operation is one frame. Outputs go to a tmpfs (/dev/shm) where there is one, so the disk's
 * write-back is not what is measured. The start of a cold run (JVM, CLI, config) is not in here: see
 * bench/replay-vs-tcprewrite.sh.
 * <p>
 * Allocation: each run allocates its tables once (most of it DIR-24-8's 64 MiB tbl24), nothing per frame, so
 * {@code gc.alloc.rate.norm} times the frames of a run is the same for both trace sizes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ReplayFileBenchmark
{
    private static final int SHORT = 500_000;
    private static final int LONG = 2_000_000;

    private Path directory;
    private Path shortTrace;
    private Path longTrace;
    private Path out;
    private DataplaneConfig config;

    @Setup
    public void setUp() throws IOException, ConfigException, TraceFileException
    {
        final Path shm = Path.of("/dev/shm");
        directory = Files.isDirectory(shm) && Files.isWritable(shm) ?
            Files.createTempDirectory(shm, "edgeplane-replay-bench") : Files.createTempDirectory("edgeplane-replay-bench");
        shortTrace = directory.resolve("short.pcap");
        longTrace = directory.resolve("long.pcap");
        out = directory.resolve("out");
        TraceGenerator.write(shortTrace, SHORT, 64);
        TraceGenerator.write(longTrace, LONG, 64);
        config = ConfigLoader.load(Path.of(System.getProperty("edgeplane.home", ".")).resolve("pcaps/demo/config.json"));
    }

    /** One run over a 500,000-frame trace. */
    @Benchmark
    @OperationsPerInvocation(SHORT)
    public long replay500k() throws TraceFileException, ConfigException
    {
        return replay(shortTrace, SHORT);
    }

    /** One run over a 2,000,000-frame trace. */
    @Benchmark
    @OperationsPerInvocation(LONG)
    public long replay2M() throws TraceFileException, ConfigException
    {
        return replay(longTrace, LONG);
    }

    private long replay(final Path trace, final int frames) throws TraceFileException, ConfigException
    {
        final ReplayResult result = Replay.run(config, trace, 0, 0, out, null);
        if (result.packets() != frames)
        {
            throw new IllegalStateException("replayed " + result.packets() + " of " + frames + " frames");
        }
        return result.packets();
    }

    @TearDown
    public void tearDown() throws IOException
    {
        try (Stream<Path> files = Files.walk(directory))
        {
            for (final Path file : files.sorted(Comparator.reverseOrder()).toList())
            {
                Files.delete(file);
            }
        }
    }
}
