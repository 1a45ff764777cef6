package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.UdpFlyweight;
import io.edgeplane.proto.VxlanFlyweight;
import io.edgeplane.stage.Dataplane;
import org.agrona.concurrent.UnsafeBuffer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * VXLAN on one core, the whole pipeline: {@code encap} routes 64-byte frames from a local pod (Port1) to a remote
 * node's pod subnet (route into vxlan0, encapsulation, outer lookup and rewrite, out of Port3); {@code decap} takes
 * VXLAN packets from the remote node (Port3) carrying 64-byte inner frames (decap on the ip4-unicast arc, inner
 * Ethernet and IPv4 input, routing to the local pod). 4096 flows, shuffled.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class VxlanBenchmark
{
    private static final int FRAMES = 4096;
    private static final String CONFIG = """
        { "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.244.1.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" },
            { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
              "ipv4": "192.168.42.1/24" } ],
          "neighbors": [
            { "interface": "Port1", "ip": "10.244.1.5", "mac": "02:00:00:00:01:05" },
            { "interface": "Port3", "ip": "10.3.0.2", "mac": "02:00:00:00:03:02" },
            { "interface": "vxlan0", "ip": "192.168.42.2", "mac": "02:00:00:00:42:02", "vtep": "10.3.0.2" } ],
          "routes": [ { "interface": "vxlan0", "prefix": "10.244.2.0/24", "nextHop": "192.168.42.2" } ] }
        """;

    @Param({"encap", "decap"})
    public String direction;

    private Dataplane dataplane;
    private PreloadedTrace trace;
    private int inPort;
    private int position;
    private long transmitted;

    @Setup
    public void setUp() throws ConfigException
    {
        dataplane = new Dataplane(ConfigLoader.parse(CONFIG), new PacketPool(1024),
            (port, pool, h) -> transmitted++, DropSink.NONE);
        final Random random = new Random(13);
        trace = new PreloadedTrace();
        inPort = "encap".equals(direction) ? 0 : 1;
        for (int i = 0; i < FRAMES; i++)
        {
            final byte[] frame = "encap".equals(direction) ?
                pod(0x0AF4_0105, 0x0AF4_0200 | random.nextInt(256), 1024 + random.nextInt(60000),
                    0x0200_0000_0101L) :
                vxlan(pod(0x0AF4_0200 | random.nextInt(256), 0x0AF4_0105, 1024 + random.nextInt(60000),
                    0x0200_0000_4201L));
            trace.add(frame, frame.length, i);
        }
    }

    /** A 64-byte frame (60 without FCS) between pods, to {@code destinationMac}. */
    private static byte[] pod(final int source, final int destination, final int sourcePort,
        final long destinationMac)
    {
        final byte[] frame = BenchFrames.udp(source, destination, sourcePort, 60);
        new EthernetFlyweight().wrap(new UnsafeBuffer(frame), 0).destination(destinationMac);
        return frame;
    }

    /** {@code inner} in VXLAN (VNI 42) from node2 10.3.0.2 to 10.3.0.1, on Port3. */
    private static byte[] vxlan(final byte[] inner)
    {
        final int outer = 14 + 20 + 8 + 8;
        final byte[] frame = new byte[outer + inner.length];
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);
        new EthernetFlyweight().wrap(buffer, 0).destination(0x0200_0000_0301L).source(0x0200_0000_0302L)
            .etherType(EthernetFlyweight.TYPE_IPV4);
        new Ipv4Flyweight().wrap(buffer, 14).versionAndIhl(4, 5).totalLength(frame.length - 14).identification(1)
            .flagsAndFragmentOffset(Ipv4Flyweight.FLAG_DF).ttl(64).protocol(Ipv4Flyweight.PROTOCOL_UDP)
            .source(0x0A03_0002).destination(0x0A03_0001).updateHeaderChecksum();
        new UdpFlyweight().wrap(buffer, 34).sourcePort(50000).destinationPort(4789).length(frame.length - 34)
            .checksum(0);
        new VxlanFlyweight().wrap(buffer, 42).header(42);
        buffer.putBytes(50, inner);
        return frame;
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long forward()
    {
        position = BenchLoops.vector(dataplane, trace, inPort, position);
        return transmitted;
    }

    @TearDown
    public void checkForwarded()
    {
        BenchLoops.requireNoDrops(dataplane);
    }
}
