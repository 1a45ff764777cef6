package io.edgeplane.bench;

import io.edgeplane.control.replay.PcapReader;
import io.edgeplane.control.replay.PcapWriter;
import io.edgeplane.control.replay.TraceFileException;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The replay's file I/O alone, frames per second: reading a 200,000-frame pcap (page cache warm) in vectors, and
 * writing frames to a pcap through the block buffer. One operation is one frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PcapIoBenchmark
{
    private static final int FRAMES = 200_000;

    @Param({"64", "1000"})
    public int frameSize;

    private Path directory;
    private Path trace;
    private PcapReader reader;
    private final PcapReader.Batch batch = new PcapReader.Batch(256);
    private PcapWriter writer;
    private UnsafeBuffer frame;
    private long written;

    @Setup
    public void setUp() throws Exception
    {
        directory = Files.createTempDirectory("edgeplane-pcap-bench");
        trace = directory.resolve("trace.pcap");
        final byte[] bytes = new byte[frameSize];
        try (PcapWriter out = new PcapWriter(trace))
        {
            for (int i = 0; i < FRAMES; i++)
            {
                bytes[0] = (byte)i;
                out.write(bytes, i * 1000L);
            }
        }
        frame = new UnsafeBuffer(new byte[frameSize]);
        writer = new PcapWriter(directory.resolve("out.pcap"));
    }

    @Setup(Level.Iteration)
    public void openReader() throws TraceFileException
    {
        reader = PcapReader.open(trace);
    }

    @TearDown(Level.Iteration)
    public void closeReader()
    {
        reader.close();
    }

    /** One vector of frames read (reopening at the end of the file). */
    @Benchmark
    @OperationsPerInvocation(256)
    public int read() throws TraceFileException
    {
        int n = reader.readBatch(batch);
        if (n == 0)
        {
            reader.close();
            reader = PcapReader.open(trace);
            n = reader.readBatch(batch);
        }
        int sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += reader.buffer().getByte(batch.offsets[i]) + batch.lengths[i];
        }
        return sum;
    }

    /** One frame written (the file is truncated and restarted every 10^6 frames). */
    @Benchmark
    public long write() throws TraceFileException
    {
        writer.write(frame, 0, frameSize, written * 1000L);
        if (++written % 1_000_000 == 0)
        {
            writer.close();
            writer = new PcapWriter(directory.resolve("out.pcap"));
        }
        return written;
    }

    @TearDown
    public void tearDown() throws IOException, TraceFileException
    {
        writer.close();
        try (var files = Files.list(directory))
        {
            for (final Path file : files.toList())
            {
                Files.delete(file);
            }
        }
        Files.delete(directory);
    }
}
