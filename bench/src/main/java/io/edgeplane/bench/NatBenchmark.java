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
 * through the whole pipeline; 2^20 flows (65,520 inside hosts x 16 source ports, shuffled) over a pool of 32 outside
 * addresses. Every flow has its session already (made before measuring): 1,048,576 sessions in the table, and each
 * packet costs a session lookup, TCP/UDP state, the translation with incremental checksums, and the route.
 * New flows are measured by {@link NatNewFlowsBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "-XX:+UseTransparentHugePages"})
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

    private Dataplane dataplane;
    private PreloadedTrace trace;
    private int position;
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
        trace = flows(FLOWS);
        position = BenchLoops.frames(dataplane, trace, 1, position, FLOWS);
        if (dataplane.nat().table().size() != FLOWS)
        {
            throw new IllegalStateException("expected " + FLOWS + " sessions, have " + dataplane.nat().table().size());
        }
    }

    /** The 2^20 flows' first packets (64 bytes, from Port4), shuffled. */
    static PreloadedTrace flows(final int count)
    {
        final List<Integer> order = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            order.add(i);
        }
        Collections.shuffle(order, new java.util.Random(7));
        final PreloadedTrace trace = new PreloadedTrace();
        final EthernetFlyweight ethernet = new EthernetFlyweight();
        for (final int flow : order)
        {
            // Hosts 10.4.1.0 - 10.4.255.239 (no gateway address among them), 16 ports each.
            final int host = 0x0A04_0000 + 256 + (flow >>> 4) % (65536 - 512);
            final byte[] frame = BenchFrames.udp(host, 0xC633_6407, 20000 + (flow & 15) * 1000 + (flow >>> 4) % 997,
                60);
            ethernet.wrap(new UnsafeBuffer(frame), 0).destination(0x0200_0000_0101L);
            trace.add(frame, frame.length, 0);
        }
        return trace;
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long forward()
    {
        position = BenchLoops.vector(dataplane, trace, 1, position);
        return transmitted;
    }

    @TearDown
    public void checkForwarded()
    {
        BenchLoops.requireNoDrops(dataplane);
        if (dataplane.nat().table().created() != FLOWS)
        {
            throw new IllegalStateException("sessions were made while measuring: not all flows were established");
        }
    }
}
