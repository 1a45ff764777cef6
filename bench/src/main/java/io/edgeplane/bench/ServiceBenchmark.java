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
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Service DNAT on one core: 64-byte TCP segments from clients on Port1 to ClusterIPs, translated to pod backends
 * routed out of Port4, through the whole pipeline, with 10, 1,000 or 50,000 services (8 backends each, Maglev tables of 1,021
 * entries so 50,000 fit in memory) and 2^20 established flows spread over them. The frontend lookup is one probe of
 * an open-addressing table whatever the number of services, so the rate should not depend on it (iptables-mode
 * kube-proxy walks a chain per service).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "-XX:+UseTransparentHugePages"})
public class ServiceBenchmark
{
    static final int FLOWS = 1 << 20;

    @Param({"10", "1000", "50000"})
    public int services;

    private Dataplane dataplane;
    private PreloadedTrace trace;
    private int position;
    private long transmitted;

    @Setup(Level.Trial)
    public void setUp() throws ConfigException
    {
        final StringBuilder list = new StringBuilder();
        for (int s = 0; s < services; s++)
        {
            final StringBuilder backends = new StringBuilder();
            for (int b = 0; b < 8; b++)
            {
                backends.append(b == 0 ? "" : ", ").append("{ \"ip\": \"10.4.").append((s * 8 + b) / 250 % 250)
                    .append('.').append(2 + (s * 8 + b) % 250).append("\" }");
            }
            list.append(s == 0 ? "" : ",\n").append("{ \"name\": \"s").append(s).append("\", \"clusterIP\": \"10.")
                .append(96 + s / 65536).append('.').append(s / 256 % 256).append('.').append(s % 256)
                .append("\", \"ports\": [ { \"port\": 80, \"targetPort\": 8080 } ], \"backends\": [ ")
                .append(backends).append(" ] }");
        }
        final String config = """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/16" },
                { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.5.0.1/24" } ],
              "routes": [ { "interface": "Port4", "prefix": "10.4.0.0/16", "nextHop": "10.5.0.254" } ],
              "neighbors": [ { "interface": "Port4", "ip": "10.5.0.254", "mac": "02:00:00:00:04:fe" } ],
              "serviceNetwork": { "serviceCIDR": "10.96.0.0/12", "clusterSources": ["10.1.0.0/16"],
                                  "maglevTableSize": 1021 },
              "nat": { "inside": [], "maxSessions": 1200000 },
              "services": [ %s ] }
            """.formatted(list);
        dataplane = new Dataplane(ConfigLoader.parse(config), new PacketPool(1024), (port, pool, h) -> transmitted++,
            DropSink.NONE);
        final List<Integer> order = new ArrayList<>(FLOWS);
        for (int i = 0; i < FLOWS; i++)
        {
            order.add(i);
        }
        Collections.shuffle(order, new Random(5));
        trace = new PreloadedTrace();
        final EthernetFlyweight ethernet = new EthernetFlyweight();
        final Random random = new Random(9);
        for (final int flow : order)
        {
            final int service = random.nextInt(services);
            final int clusterIp = 0x0A00_0000 | (96 + service / 65536) << 16 | (service / 256 % 256) << 8 |
                service % 256;
            final int client = 0x0A01_0100 + flow % 60000;
            final byte[] frame = BenchFrames.tcp(client, clusterIp, 1024 + flow / 60000 * 4 + (flow & 3), 60);
            final UnsafeBuffer buffer = new UnsafeBuffer(frame);
            buffer.putShort(36, (short)80, java.nio.ByteOrder.BIG_ENDIAN);
            new io.edgeplane.proto.TcpFlyweight().wrap(buffer, 34).checksum(0).updateChecksum(client, clusterIp, 26);
            ethernet.wrap(buffer, 0).destination(0x0200_0000_0101L);
            trace.add(frame, frame.length, 0);
        }
        position = BenchLoops.frames(dataplane, trace, 0, position, FLOWS);
        BenchLoops.requireNoDrops(dataplane);
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
        final long created = dataplane.nat().table().created();
        if (created > FLOWS)
        {
            throw new IllegalStateException(created + " sessions made for " + FLOWS + " flows");
        }
    }
}
