package io.edgeplane.bench;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.UdpFlyweight;
import io.edgeplane.session.SessionTable;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.FlowDispatch;
import io.edgeplane.stage.Workers;
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

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cost of a handoff between workers, on one thread: masquerade replies (64-byte UDP from a server to the
 * outside address's mapped ports, 4,096 sessions) that arrive at worker 0 (the server's address spreads there)
 * while their mapped ports lie in worker 1's slice. {@code handedOver}: worker 0 receives a vector, finds the
 * owner and copies each frame into the ring; worker 1 takes them into its pool and translates and routes them.
 * {@code onOwner}: the same frames received by worker 1 itself, the price without the handoff. The difference is
 * what a reply crossing workers costs; both must allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class HandoffBenchmark
{
    private static final int HOSTS = 64;
    private static final int PORTS_PER_HOST = 64;
    private static final int SERVER = 0xC633_6407;
    private static final int OUTSIDE = 0x0A02_0001;
    private static final long PORT2_MAC = 0x0200_0000_0201L;
    private static final String CONFIG = """
        { "workers": 2, "ports": [
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port4", "mac": "02:00:00:00:01:01", "ipv4": "10.4.0.1/16" } ],
          "neighbors": [ { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" }%s ],
          "routes": [ { "interface": "Port2", "prefix": "0.0.0.0/0", "nextHop": "10.2.0.254" } ],
          "nat": { "inside": ["Port4"], "maxSessions": 65536 } }
        """;

    private Workers workers;
    private Dataplane arrival;
    private Dataplane owner;
    private PreloadedTrace replies;
    private int position;
    private long transmitted;

    @Setup(Level.Trial)
    public void setUp() throws ConfigException
    {
        final int multiplier = multiplier();
        final StringBuilder neighbors = new StringBuilder();
        final int[] hosts = insideHosts(multiplier);
        for (final int host : hosts)
        {
            neighbors.append(String.format(", { \"interface\": \"Port4\", \"ip\": \"10.4.%d.%d\", \"mac\": "
                + "\"02:00:00:04:%02x:%02x\" }", host >>> 8 & 0xFF, host & 0xFF, host >>> 8 & 0xFF, host & 0xFF));
        }
        final DataplaneConfig config = ConfigLoader.parse(String.format(CONFIG, neighbors));
        workers = new Workers(config, 2, multiplier, 1024, new PortTable(config.ports()), null,
            w -> (p, pool, h) -> transmitted++, DropSink.NONE, List.of());
        arrival = workers.get(0);
        owner = workers.get(1);
        // The flows: every inside host (all spread to worker 1) sends from 64 ports, so worker 1 owns the sessions.
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[0]);
        for (final int host : hosts)
        {
            for (int p = 0; p < PORTS_PER_HOST; p++)
            {
                final byte[] frame = BenchFrames.udp(host, SERVER, 20000 + p, 60);
                scratch.wrap(frame);
                new EthernetFlyweight().wrap(scratch, 0).destination(0x0200_0000_0101L);
                workers.receive(1, scratch, 0, frame.length, 0, 0);
            }
            workers.flush();
        }
        final SessionTable sessions = owner.sessions();
        if (sessions.size() != HOSTS * PORTS_PER_HOST || arrival.sessions().size() != 0)
        {
            throw new IllegalStateException("sessions: " + sessions.size() + " on worker 1, "
                + arrival.sessions().size() + " on worker 0");
        }
        replies = new PreloadedTrace();
        sessions.forEach(s ->
        {
            final byte[] frame = BenchFrames.udp(SERVER, OUTSIDE, 4000, 60);
            final UnsafeBuffer buffer = new UnsafeBuffer(frame);
            new EthernetFlyweight().wrap(buffer, 0).destination(PORT2_MAC);
            new UdpFlyweight().wrap(buffer, 34).destinationPort(sessions.destinationPort(s, SessionTable.REPLY))
                .updateChecksum(SERVER, OUTSIDE);
            replies.add(frame, frame.length, 0);
            return true;
        });
    }

    /** An odd multiplier under which the server arrives at worker 0. */
    private static int multiplier()
    {
        int m = 1;
        while (FlowDispatch.spread(SERVER, m, 2) != 0)
        {
            m += 2;
        }
        return m;
    }

    /** Inside hosts (10.4.1.0 and up) that arrive at worker 1. */
    private static int[] insideHosts(final int multiplier)
    {
        final int[] hosts = new int[HOSTS];
        int candidate = 0x0A04_0100;
        for (int i = 0; i < HOSTS; candidate++)
        {
            final int last = candidate & 0xFF;
            if (last != 0 && last != 0xFF && FlowDispatch.spread(candidate, multiplier, 2) == 1)
            {
                hosts[i++] = candidate;
            }
        }
        return hosts;
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long handedOver()
    {
        position = BenchLoops.vector(arrival, replies, 0, position);
        owner.drainHandoff(PacketBatch.VECTOR_SIZE);
        owner.flush();
        return transmitted;
    }

    @Benchmark
    @OperationsPerInvocation(PacketBatch.VECTOR_SIZE)
    public long onOwner()
    {
        position = BenchLoops.vector(owner, replies, 0, position);
        return transmitted;
    }

    @TearDown
    public void check()
    {
        BenchLoops.requireNoDrops(arrival);
        BenchLoops.requireNoDrops(owner);
        final var events = workers.counters().snapshot().events;
        if (events.getOrDefault("handoff-ring-full", 0L) != 0 || transmitted == 0)
        {
            throw new IllegalStateException("handoffs lost or nothing sent: " + events + ", sent " + transmitted);
        }
    }
}
