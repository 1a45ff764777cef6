package io.edgeplane.stage;

import io.edgeplane.nat.Nat;
import io.edgeplane.session.SessionTable;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.TcpPacket;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several workers: frames arrive at the worker of their source address, as the kernel's fanout program spreads
 * them, and every translated flow's packets (both directions) end up on the one worker that owns its session. The
 * oracle is the flows themselves: every outbound packet is translated, every reply finds its inside host or client,
 * each worker holds only sessions whose mapped port is in its own slice, and both workers did a share.
 */
class WorkersTest
{
    private static final int HOSTS = 64;
    private static final int SERVER_2 = ip("198.51.100.8");

    /** NatTest's box with 64 inside hosts (static neighbors) and two workers. */
    private static String natConfig()
    {
        final StringBuilder neighbors = new StringBuilder();
        for (int h = 0; h < HOSTS; h++)
        {
            neighbors.append(String.format(
                ", { \"interface\": \"Port4\", \"ip\": \"10.4.0.%d\", \"mac\": \"02:00:00:00:04:%02x\" }", 10 + h,
                10 + h));
        }
        return String.format(NatTest.CONFIG, "").replace(
            "{ \"interface\": \"Port4\", \"ip\": \"10.4.0.3\", \"mac\": \"02:00:00:00:04:03\" }",
            "{ \"interface\": \"Port4\", \"ip\": \"10.4.0.3\", \"mac\": \"02:00:00:00:04:03\" }" + neighbors)
            .replace("\"ports\": [", "\"workers\": 2, \"ports\": [");
    }

    @Test
    void masqueradedFlowsAreTranslatedBothWaysWhicheverWorkerTheyArriveAt() throws Exception
    {
        final Harness harness = new Harness(natConfig());
        assertEquals(2, harness.workers.count());
        // Every inside endpoint talks to two servers: one mapping for both (endpoint-independent, REQ-1).
        final Map<Long, int[]> endpoints = new HashMap<>();
        final Map<Long, Long> first = new HashMap<>();
        final Map<Long, Long> second = new HashMap<>();
        for (int h = 0; h < HOSTS; h++)
        {
            for (int p = 0; p < 4; p++)
            {
                final int host = ip("10.4.0." + (10 + h));
                final long key = (long)host << 16 | 5000 + p;
                endpoints.put(key, new int[] {host, 5000 + p});
                first.put(key, harness.receive(NatTest.PORT4, NatTest.udpFromInside(host, 5000 + p, NatTest.SERVER,
                    53)));
                second.put(key, harness.receive(NatTest.PORT4, NatTest.udpFromInside(host, 5000 + p, SERVER_2, 53)));
            }
        }
        harness.flush();
        final Map<Integer, Long> byMappedPort = new HashMap<>();
        for (final Map.Entry<Long, int[]> endpoint : endpoints.entrySet())
        {
            final IpV4Packet a = NatTest.sent(harness, first.get(endpoint.getKey()), NatTest.PORT2);
            final IpV4Packet b = NatTest.sent(harness, second.get(endpoint.getKey()), NatTest.PORT2);
            assertEquals(NatTest.OUTSIDE, NatTest.address(a.getHeader().getSrcAddr()));
            final int mapped = NatTest.udpSourcePort(a);
            assertEquals(mapped, NatTest.udpSourcePort(b), "one mapping for both destinations");
            assertEquals(null, byMappedPort.put(mapped, endpoint.getKey()), "mapped port " + mapped + " twice");
        }
        // Replies, from both servers, come in at the servers' workers and reach their inside endpoint.
        final Map<Long, Integer> replies = new HashMap<>();
        for (final Map.Entry<Integer, Long> mapping : byMappedPort.entrySet())
        {
            final int server = mapping.getKey() % 2 == 0 ? NatTest.SERVER : SERVER_2;
            final long id = harness.receive(NatTest.PORT2, NatTest.udpFromOutside(server, 53, NatTest.OUTSIDE,
                mapping.getKey()));
            replies.put(id, mapping.getKey());
        }
        harness.flush();
        for (final Map.Entry<Long, Integer> reply : replies.entrySet())
        {
            final IpV4Packet in = NatTest.sent(harness, reply.getKey(), NatTest.PORT4);
            final int[] endpoint = endpoints.get(byMappedPort.get(reply.getValue()));
            assertEquals(endpoint[0], NatTest.address(in.getHeader().getDstAddr()));
            assertEquals(endpoint[1], NatTest.udpDestinationPort(in));
        }
        // Each worker owns only mappings from its own slice, and both own some.
        for (int w = 0; w < 2; w++)
        {
            final SessionTable table = harness.workers.get(w).sessions();
            assertTrue(table.size() > 0, "worker " + w + " has sessions");
            final int worker = w;
            table.forEach(s ->
            {
                final int mapped = table.destinationPort(s, SessionTable.REPLY);
                assertEquals(worker, Nat.sliceOwner(1024, 65535, mapped, 2), "port " + mapped + "'s owner");
                return true;
            });
        }
        assertEquals(2 * endpoints.size(), harness.sessions());
        assertTrue(harness.snapshot().events.getOrDefault("handoff-out", 0L) > 0, "some replies were handed off");
        assertEquals(harness.snapshot().events.getOrDefault("handoff-out", 0L),
            harness.snapshot().events.getOrDefault("handoff-in", 0L));
    }

    /** ServiceTest's box with two workers and 32 more clients on Port1 (10.1.0.20-51, static neighbors). */
    private static String serviceConfigWith32Clients()
    {
        final StringBuilder clients = new StringBuilder();
        for (int c = 0; c < 32; c++)
        {
            clients.append(String.format(
                ", { \"interface\": \"Port1\", \"ip\": \"10.1.0.%d\", \"mac\": \"02:00:00:00:01:%02x\" }", 20 + c,
                20 + c));
        }
        return ServiceTest.CONFIG
            .replace("{ \"interface\": \"Port1\", \"ip\": \"10.1.0.10\", \"mac\": \"02:00:00:00:01:10\" }",
                "{ \"interface\": \"Port1\", \"ip\": \"10.1.0.10\", \"mac\": \"02:00:00:00:01:10\" }" + clients)
            .replaceFirst("\\{", "{ \"workers\": 2,");
    }

    @Test
    void serviceRepliesFromBackendsReachTheWorkerThatOwnsTheClient() throws Exception
    {
        final Harness harness = new Harness(serviceConfigWith32Clients());
        final Map<Long, Integer> syns = new HashMap<>();
        for (int c = 0; c < 32; c++)
        {
            final int client = ip("10.1.0." + (20 + c));
            syns.put(harness.receive(ServiceTest.PORT1, NatTest.tcpFrame(ServiceTest.PORT1_MAC,
                0x0200_0000_0100L | 20 + c, client, 40000 + c, ServiceTest.VIP, 80, 0x02)), client);
        }
        harness.flush();
        final Map<Long, Integer> synAcks = new HashMap<>();
        final Set<Integer> backends = new HashSet<>();
        for (final Map.Entry<Long, Integer> syn : syns.entrySet())
        {
            final IpV4Packet toBackend = ServiceTest.sent(harness, syn.getKey(), ServiceTest.PORT4);
            final int backend = ServiceTest.address(toBackend.getHeader().getDstAddr());
            backends.add(backend);
            assertEquals(syn.getValue(), ServiceTest.address(toBackend.getHeader().getSrcAddr()));
            synAcks.put(harness.receive(ServiceTest.PORT4, NatTest.tcpFrame(ServiceTest.PORT4_MAC,
                0x0200_0000_0400L | backend & 0xFF, backend, 8080, syn.getValue(), ServiceTest.sourcePort(toBackend),
                0x12)), syn.getValue());
        }
        harness.flush();
        for (final Map.Entry<Long, Integer> synAck : synAcks.entrySet())
        {
            final IpV4Packet reply = ServiceTest.sent(harness, synAck.getKey(), ServiceTest.PORT1);
            assertEquals(ServiceTest.VIP, ServiceTest.address(reply.getHeader().getSrcAddr()), "from the VIP");
            assertEquals(80, reply.get(TcpPacket.class).getHeader().getSrcPort().valueAsInt());
            assertEquals(synAck.getValue(), ServiceTest.address(reply.getHeader().getDstAddr()));
        }
        assertTrue(backends.size() > 1, "spread over backends");
        assertTrue(harness.workers.get(0).sessions().size() > 0 && harness.workers.get(1).sessions().size() > 0,
            "both workers own clients");
        assertTrue(harness.snapshot().events.getOrDefault("handoff-out", 0L) > 0, "backend replies handed off");
    }

    @Test
    void aBackendThatLeftStillReachesTheWorkerOwningItsFlowsWhichResetsTheirClients() throws Exception
    {
        final String config = serviceConfigWith32Clients();
        final Harness harness = new Harness(config);
        final Map<Integer, Integer> backendOf = new HashMap<>();
        for (int c = 0; c < 32; c++)
        {
            final int client = ip("10.1.0." + (20 + c));
            final long syn = harness.receive(ServiceTest.PORT1, NatTest.tcpFrame(ServiceTest.PORT1_MAC,
                0x0200_0000_0100L | 20 + c, client, 40000, ServiceTest.VIP, 80, 0x02));
            harness.flush();
            backendOf.put(client,
                ServiceTest.address(ServiceTest.sent(harness, syn, ServiceTest.PORT4).getHeader().getDstAddr()));
        }
        final int leaving = ip("10.4.0.3");
        final List<Integer> rest = List.of(ip("10.4.0.2"), ip("10.4.0.4"));
        final io.edgeplane.config.DataplaneConfig parsed = io.edgeplane.config.ConfigLoader.parse(config);
        harness.dataplane.configureServices(parsed.serviceNetwork(),
            ServiceTest.withBackends(parsed, "web", rest).services());
        final Map<Long, Integer> segments = new HashMap<>();
        final Set<Integer> ownerWorkers = new HashSet<>();
        for (final Map.Entry<Integer, Integer> flow : backendOf.entrySet())
        {
            if (flow.getValue() == leaving)
            {
                segments.put(harness.receive(ServiceTest.PORT4, ServiceTest.segment(0x0200_0000_0403L,
                    ServiceTest.PORT4_MAC, leaving, 8080, flow.getKey(), 40000, 5000, 7000, 0x18, 200)), flow.getKey());
                ownerWorkers.add(FlowDispatch.spread(flow.getKey(), harness.workers.multiplier(), 2));
            }
        }
        harness.flush();
        assertEquals(2, ownerWorkers.size(), "clients of the leaving backend on both workers: " + backendOf);
        for (final Map.Entry<Long, Integer> segment : segments.entrySet())
        {
            final IpV4Packet reset = ServiceTest.sent(harness, segment.getKey(), ServiceTest.PORT1);
            assertEquals(ServiceTest.VIP, ServiceTest.address(reset.getHeader().getSrcAddr()), "from the VIP");
            assertEquals(segment.getValue(), ServiceTest.address(reset.getHeader().getDstAddr()));
            assertTrue(reset.get(TcpPacket.class).getHeader().getRst());
        }
        assertEquals((long)segments.size(), harness.snapshot().events.get("lb-backend-gone-resets"));
    }

    @Test
    void aNeighborOneWorkerHearsIsLearnedByAll() throws Exception
    {
        final Harness harness = new Harness("""
            {
              "workers": 2,
              "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
                { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" }
              ]
            }
            """);
        final int target = ip("10.2.0.20");
        final long targetMac = 0x0200_0000_0220L;
        final boolean[] onWorker = new boolean[2];
        for (int i = 0; i < 16; i++)
        {
            final byte[] frame = frameFrom(i, target);
            onWorker[FlowDispatch.arrival(new UnsafeBuffer(frame), 0, frame.length,
                harness.workers.multiplier(), 2)] = true;
            harness.receive(0, frame);
        }
        harness.flush();
        assertTrue(onWorker[0] && onWorker[1], "both workers have packets for the neighbor");
        assertEquals(2, arpRequests(harness), "each worker asks for the neighbor (its own cache)");
        // The reply reaches one worker (the kernel gives ARP to the first); the other learns it through the ring.
        harness.receive(1, Frames.ethernet(0x0200_0000_0201L, targetMac, 0x0806,
            Frames.arp(2, targetMac, target, 0x0200_0000_0201L, ip("10.2.0.1"))));
        harness.flush();
        final long[] ids = new long[16];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = harness.receive(0, frameFrom(i, target));
        }
        harness.flush();
        for (final long id : ids)
        {
            final Harness.Sent sent = harness.sentFor(id);
            assertNotNull(sent, "packet " + id + " sent; dropped as " + harness.dropFor(id));
            assertEquals(targetMac, ByteBuffer.wrap(sent.frame()).getLong(0) >>> 16, "to the learned MAC");
        }
        assertEquals(2, arpRequests(harness), "no worker had to ask again");
    }

    private static byte[] frameFrom(final int i, final int target)
    {
        return Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC, ip("10.1.0." + (10 + i)), target, 64, 1000, 53,
            10);
    }

    private static long arpRequests(final Harness harness)
    {
        return harness.sent.stream().filter(s -> ByteBuffer.wrap(s.frame()).getShort(12) == 0x0806).count();
    }

    @Test
    void theSpreadIsTheKernelProgramsArithmetic()
    {
        // ld [26]; mul #m; rsh #16; mod #n, in unsigned 32-bit arithmetic.
        final int multiplier = Workers.multiplierFor(7);
        for (final int source : new int[] {ip("10.1.0.10"), ip("192.168.255.1"), ip("255.255.255.255"), 0})
        {
            final long product = (source & 0xFFFF_FFFFL) * (multiplier & 0xFFFF_FFFFL) & 0xFFFF_FFFFL;
            for (final int workers : new int[] {1, 2, 3, 7})
            {
                assertEquals((int)((product >>> 16) % workers), FlowDispatch.spread(source, multiplier, workers));
            }
        }
    }

    @Test
    void aFullRingRefusesAndLosesNothingItAccepted()
    {
        final Handoff handoff = new Handoff(2);
        final byte[] frame = new byte[1500];
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);
        int accepted = 0;
        while (true)
        {
            ByteBuffer.wrap(frame).putInt(0, accepted);
            if (!handoff.frame(0, 1, 3, buffer, 0, frame.length, accepted, 1000L * accepted))
            {
                break;
            }
            accepted++;
        }
        assertTrue(accepted > 100 && accepted < Handoff.RING_BYTES / 1500, "a bounded ring: " + accepted);
        assertTrue(handoff.idle() == false);
        final int[] next = {0};
        final int taken = handoff.drain(1, Handoff.handler(new Handoff.Receiver()
        {
            @Override
            public void frame(final int port, final DirectBuffer b, final int offset, final int length,
                final long packetId, final long timestampNanos)
            {
                assertEquals(3, port);
                assertEquals(1500, length);
                assertEquals(next[0], b.getInt(offset, java.nio.ByteOrder.BIG_ENDIAN), "in order, intact");
                assertEquals(next[0], packetId);
                assertEquals(1000L * next[0], timestampNanos);
                next[0]++;
            }

            @Override
            public void neighbor(final int port, final int ip, final long mac, final int vtep, final boolean forUs)
            {
                throw new AssertionError("no neighbor was sent");
            }
        }), Integer.MAX_VALUE);
        assertEquals(accepted, taken);
        assertEquals(accepted, next[0]);
        assertTrue(handoff.idle());
        assertEquals(0, handoff.drain(0, Handoff.handler(null), 10), "nothing went the other way");
    }

    @Test
    void aDrainTakesItsLimitAcrossTheRingsWrapSoASteadyStreamNeverBacksUp()
    {
        // Frames of a size that does not divide the ring: messages end at every offset, and the wrap falls between
        // a drain's messages lap after lap. Each round hands 64 over and drains 64: nothing may stay behind.
        final Handoff handoff = new Handoff(2);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1001]);
        final long[] taken = {0};
        final MessageHandler handler = Handoff.handler(new Handoff.Receiver()
        {
            @Override
            public void frame(final int port, final DirectBuffer b, final int offset, final int length,
                final long packetId, final long timestampNanos)
            {
                assertEquals(taken[0], packetId, "in order");
                taken[0]++;
            }

            @Override
            public void neighbor(final int port, final int ip, final long mac, final int vtep, final boolean forUs)
            {
                throw new AssertionError("no neighbor was sent");
            }
        });
        long sent = 0;
        final long laps = 20L * Handoff.RING_BYTES / 1001;
        while (sent < laps)
        {
            for (int i = 0; i < 64; i++, sent++)
            {
                assertTrue(handoff.frame(0, 1, 0, buffer, 0, 1001, sent, 0), "ring full after " + sent);
            }
            assertEquals(64, handoff.drain(1, handler, 64));
            assertTrue(handoff.idle(), "left behind after " + sent);
        }
        assertEquals(sent, taken[0]);
    }
}
