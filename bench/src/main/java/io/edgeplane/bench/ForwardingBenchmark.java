package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.FeatureArc;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Route forwarding on one core, the whole pipeline as replay and live mode run it: receive (copy into the pool),
 * ethernet-input, ip4-input, ip4-lookup (DIR-24-8, ECMP), ip4-rewrite (TTL, checksum, MACs), interface-output to
 * a counting sink. 60-byte frames (64 with FCS) to random destinations inside the installed prefixes.
 * {@code arcFeature}: {@code none} (no feature registered), {@code disabled} (a pass-through feature registered on
 * ip4-unicast but not enabled: what a disabled arc costs) and {@code enabled} (enabled on the ingress port: one more
 * stage per vector).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g", "-XX:+UseTransparentHugePages"})
public class ForwardingBenchmark
{
    private static final int FRAMES = 1 << 16;

    @Param({"1000", "900000"})
    public int prefixes;

    @Param({"none", "disabled", "enabled"})
    public String arcFeature;

    private Dataplane dataplane;
    private PreloadedTrace trace;
    private int position;
    private long transmitted;

    static DataplaneConfig configWithNeighbors() throws ConfigException
    {
        final StringBuilder neighbors = new StringBuilder();
        for (int i = 0; i < RouteTableGenerator.NEXT_HOPS; i++)
        {
            final int hop = RouteTableGenerator.nextHop(i);
            neighbors.append(i == 0 ? "" : ",").append("{ \"interface\": \"Port").append(2 + i % 3)
                .append("\", \"ip\": \"").append(RouteTableGenerator.format(hop)).append("\", \"mac\": \"02:00:00:00:")
                .append(String.format("%02x:%02x", 2 + i % 3, i)).append("\" }");
        }
        return ConfigLoader.parse(ParseBenchmark.CONFIG.replace("] }", "], \"neighbors\": [" + neighbors + "] }"));
    }

    @Setup
    public void setUp() throws ConfigException
    {
        final DataplaneConfig config = configWithNeighbors();
        final PortTable ports = new PortTable(config.ports());
        final List<RouteTableGenerator.GeneratedRoute> routes = RouteTableGenerator.generate(prefixes, 1);
        final RoutingTable table = BenchTables.load(routes, ports);
        dataplane = new Dataplane(config, new PacketPool(1024), ports, table,
            (port, pool, h) -> transmitted++, DropSink.NONE,
            "none".equals(arcFeature) ? List.of() : List.of(PassThroughFeature::new));
        if ("enabled".equals(arcFeature))
        {
            dataplane.arc(FeatureArc.IP4_UNICAST).enable(PassThroughFeature.NAME, 0, true);
        }
        // Only traffic a router forwards: no source that is one of the ports' own addresses, no destination a
        // router refuses (martian, link-local, multicast) or holds itself; otherwise the teardown's no-drop check
        // fails the last iteration, as it did when ip4-input learned those checks.
        final int[] destinations = BenchTables.keys(routes, "installed", FRAMES * 2, 4);
        final Random random = new Random(5);
        trace = new PreloadedTrace();
        for (int i = 0, d = 0; i < FRAMES; d++)
        {
            final int source = 0x0A010000 | random.nextInt(1 << 16);
            final int destination = destinations[d];
            if (ports.isLocalAddress(source) || !forwardable(destination) || ports.isLocalAddress(destination))
            {
                continue;
            }
            final byte[] frame = BenchFrames.udp(source, destination, 1024 + random.nextInt(60000), 60);
            trace.add(frame, frame.length, i++);
        }
    }

    /** Not 0/8, 127/8, 169.254/16, multicast, reserved (240/4) or broadcast: what a router forwards. */
    static boolean forwardable(final int destination)
    {
        final int high = destination >>> 24;
        return high != 0 && high != 127 && (destination & 0xF000_0000) != 0xE000_0000 && destination != -1 &&
            (destination & 0xFFFF_0000) != 0xA9FE_0000 && (destination & 0xF000_0000) != 0xF000_0000;
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long forward()
    {
        position = BenchLoops.vector(dataplane, trace, 0, position);
        return transmitted;
    }

    @TearDown
    public void checkForwarded()
    {
        BenchLoops.requireNoDrops(dataplane);
    }
}
