package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.stage.Dataplane;
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

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Route + masquerade on one core, 64-byte UDP frames from the internal switch (Port4) to the outside (Port2),
 * through the whole pipeline; 2^20 flows (65,536 inside hosts x 16 source ports, shuffled) over a pool of 32 outside
 * addresses.
 * <ul>
 *   <li>{@code established}: every flow has its session already (set up before measuring): session lookup, state,
 *       translation with incremental checksums. 1,048,576 sessions in the table.</li>
 *   <li>{@code new}: the packet clock jumps one second per vector and the UDP timeout is 120 s, so every packet is
 *       the first of a new flow (its previous session expired long ago): mapping with port allocation, session
 *       creation on both keys, its timer, and the expiry of as many old sessions, all in the measured time.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g"})
public class NatBenchmark
{
    static final int FLOWS = 1 << 20;
    static final String CONFIG = """
        { "ports": [
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port4", "mac": "02:00:00:00:01:01", "ipv4": "10.4.0.1/16" } ],
          "neighbors": [ { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" } ],
          "routes": [ { "interface": "Port2", "prefix": "0.0.0.0/0", "nextHop": "10.2.0.254" } ],
          "nat": { "inside": ["Port4"], "maxSessions": 1200000, "addresses": [%s],
                   "timeouts": { "udp": 120 } } }
        """;

    @Param({"established", "new"})
    public String flows;

    private Dataplane dataplane;
    private PreloadedTrace trace;
    private int position;
    private long clock;
    private long transmitted;

    static String pool()
    {
        final List<String> addresses = new ArrayList<>();
        for (int i = 0; i < 32; i++)
        {
            addresses.add("\"10.2.0." + (100 + i) + "\"");
        }
        return String.join(", ", addresses);
    }

    @Setup(Level.Trial)
    public void setUp() throws ConfigException
    {
        dataplane = new Dataplane(ConfigLoader.parse(String.format(CONFIG, pool())), new PacketPool(1024),
            (port, pool, h) -> transmitted++, DropSink.NONE);
        final List<Integer> order = new ArrayList<>(FLOWS);
        for (int i = 0; i < FLOWS; i++)
        {
            order.add(i);
        }
        Collections.shuffle(order, new java.util.Random(7));
        trace = new PreloadedTrace();
        final EthernetFlyweight ethernet = new EthernetFlyweight();
        for (final int flow : order)
        {
            // Hosts 10.4.1.0 - 10.4.255.255 (no gateway address among them), 16 ports each.
            final int host = 0x0A04_0000 + 256 + (flow >>> 4) % (65536 - 512);
            final byte[] frame = BenchFrames.udp(host, 0xC633_6407, 20000 + (flow & 15) * 1000 + (flow >>> 4) % 997,
                60);
            ethernet.wrap(new UnsafeBuffer(frame), 0).destination(0x0200_0000_0101L);
            trace.add(frame, frame.length, 0);
        }
        if ("established".equals(flows))
        {
            for (int i = 0; i < FLOWS / PacketBatch.VECTOR_SIZE; i++)
            {
                position = BenchLoops.vector(dataplane, trace, 1, position);
            }
            if (dataplane.nat().table().size() != FLOWS)
            {
                throw new IllegalStateException("expected " + FLOWS + " sessions, have " +
                    dataplane.nat().table().size());
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long forward()
    {
        if ("new".equals(flows))
        {
            clock += 1_000_000_000L;
        }
        final int mask = trace.count() - 1;
        int p = position;
        for (int i = 0; i < PacketBatch.VECTOR_SIZE; i++)
        {
            dataplane.receive(1, trace.buffer(), trace.offset(p), trace.length(p), p, clock);
            p = (p + 1) & mask;
        }
        dataplane.flush();
        position = p;
        return transmitted;
    }

    @TearDown
    public void checkForwarded()
    {
        BenchLoops.requireNoDrops(dataplane);
        if ("new".equals(flows) && dataplane.nat().table().expired() == 0)
        {
            throw new IllegalStateException("no session expired: the new-flow case measured established flows");
        }
    }
}
