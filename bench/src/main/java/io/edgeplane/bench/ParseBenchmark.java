package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.port.DropSink;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.Stage;
import io.edgeplane.stage.EthernetInputStage;
import io.edgeplane.stage.Ip4InputStage;
import io.edgeplane.stage.Ip4LookupStage;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Parse + validate (ethernet-input and ip4-input, with their counters and the flow hash) over a vector of 256
 * shuffled frames already in the pool: 64-byte UDP, 1500-byte TCP, or a 50/50 mix.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ParseBenchmark
{
    static final String CONFIG = """
        { "ports": [
          { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/16" },
          { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/16" },
          { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/16" },
          { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.4.0.1/16" } ] }
        """;

    @Param({"udp64", "tcp1500", "mix"})
    public String traffic;

    private PacketPool pool;
    private final PacketBatch batch = new PacketBatch();
    private final PacketBatch ipBatch = new PacketBatch();
    private final int[] lengths = new int[PacketBatch.VECTOR_SIZE];
    private Stage ethernetInput;
    private Stage ip4Input;
    private int ip4InputIndex;
    private int ip4LookupIndex;

    @Setup
    public void setUp() throws ConfigException
    {
        pool = new PacketPool(1024);
        final Dataplane dataplane = new Dataplane(ConfigLoader.parse(CONFIG), pool, (port, p, h) ->
        {
        }, DropSink.NONE);
        ethernetInput = dataplane.graph().stage(EthernetInputStage.NAME);
        ip4Input = dataplane.graph().stage(Ip4InputStage.NAME);
        ip4InputIndex = ip4Input.id();
        ip4LookupIndex = dataplane.graph().index(Ip4LookupStage.NAME);
        final Random random = new Random(3);
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
        {
            final int source = 0x0A010000 | random.nextInt(1 << 16);
            final int destination = 0xC0000000 | random.nextInt(1 << 24);
            final boolean big = "tcp1500".equals(traffic) || "mix".equals(traffic) && i % 2 == 0;
            frames.add(big ? BenchFrames.tcp(source, destination, 1024 + i, 1514) :
                BenchFrames.udp(source, destination, 1024 + i, 60));
        }
        Collections.shuffle(frames, random);
        for (int i = 0; i < frames.size(); i++)
        {
            final int h = pool.allocate();
            final byte[] frame = frames.get(i);
            pool.buffer().putBytes(pool.frameOffset(h), frame);
            pool.frameLength(h, frame.length);
            pool.inPort(h, 0);
            lengths[i] = frame.length;
            batch.add(h);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public int parseAndValidate()
    {
        final PacketPool pool = this.pool;
        for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
        {
            pool.frameLength(batch.handle(i), lengths[i]);
        }
        ethernetInput.run(batch);
        ipBatch.clear();
        for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
        {
            final int h = batch.handle(i);
            if (pool.next(h) == ip4InputIndex)
            {
                ipBatch.add(h);
            }
        }
        ip4Input.run(ipBatch);
        int hashes = 0;
        for (int i = 0; i < ipBatch.count(); i++)
        {
            final int h = ipBatch.handle(i);
            hashes += pool.next(h) == ip4LookupIndex ? pool.flowHash(h) : 1;
        }
        return hashes;
    }
}
