package io.edgeplane.stage;

import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static io.edgeplane.testing.Frames.ip;
import static io.edgeplane.testing.Harness.CLIENT_MAC;
import static io.edgeplane.testing.Harness.PORT1_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 200,000 randomly mutated frames (bit flips, byte overwrites, truncations, extensions, random garbage), seeded:
 * nothing throws, every frame is accounted for (sent, or dropped under a reason), the pool gets every slot back,
 * and every frame the gateway emits is well formed: an IPv4 frame has a valid header checksum and a TTL
 * below what it came in with (or is the gateway's own), an ARP frame is a well-formed Ethernet/IPv4 ARP.
 */
class RandomFrameFuzzTest
{
    private static final int FRAMES = 200_000;

    private static List<byte[]> seeds()
    {
        final int client = ip("10.1.0.10");
        return List.of(
            Frames.udpFrame(PORT1_MAC, CLIENT_MAC, client, ip("10.2.0.20"), 64, 1000, 53, 40),
            Frames.tcpFrame(PORT1_MAC, CLIENT_MAC, client, ip("10.3.0.30"), 9, 1001, 80, 200),
            Frames.pingFrame(PORT1_MAC, CLIENT_MAC, client, ip("10.1.0.1"), 64, 7, 1),
            Frames.pingFrame(PORT1_MAC, CLIENT_MAC, client, ip("10.2.0.20"), 2, 7, 2),
            Frames.udpFrame(PORT1_MAC, CLIENT_MAC, client, ip("8.8.8.8"), 64, 1002, 53, 20),
            Frames.ethernet(-1L & 0xFFFF_FFFF_FFFFL, CLIENT_MAC, Frames.ETH_ARP,
                Frames.arp(1, CLIENT_MAC, client, 0, ip("10.1.0.1"))),
            Frames.ethernetVlan(PORT1_MAC, CLIENT_MAC, 0, Frames.ETH_IPV4, Arrays.copyOfRange(
                Frames.udpFrame(PORT1_MAC, CLIENT_MAC, client, ip("10.2.0.20"), 64, 1003, 53, 30), 14, 86)));
    }

    private static byte[] mutate(final byte[] seed, final Random random)
    {
        byte[] frame = seed.clone();
        switch (random.nextInt(6))
        {
            case 0 -> frame[random.nextInt(frame.length)] ^= (byte)(1 << random.nextInt(8));
            case 1 ->
            {
                // Header bytes are where the decisions are: hit them more often than the payload.
                final int index = random.nextInt(Math.min(frame.length, 60));
                frame[index] = (byte)random.nextInt(256);
                if (random.nextBoolean() && frame.length > 34)
                {
                    Frames.fixIpChecksum(frame, 14);
                }
            }
            case 2 -> frame = Arrays.copyOf(frame, random.nextInt(frame.length + 1));
            case 3 -> frame = Arrays.copyOf(frame, frame.length + random.nextInt(200));
            case 4 ->
            {
                frame = new byte[random.nextInt(2100)];
                random.nextBytes(frame);
                if (frame.length >= 12 && random.nextBoolean())
                {
                    System.arraycopy(seed, 0, frame, 0, 12);
                }
            }
            default ->
            {
                for (int i = 0; i < 1 + random.nextInt(4); i++)
                {
                    frame[random.nextInt(frame.length)] = (byte)random.nextInt(256);
                }
            }
        }
        return frame;
    }

    /** Seeds for the VXLAN config: pod traffic into the tunnel (port 0) and VXLAN from the other node (port 1). */
    private static List<byte[]> tunnelSeeds()
    {
        final int pod = ip("10.244.1.5");
        final int remote = ip("10.244.2.7");
        final long podMac = 0x0200_0000_0105L;
        final long port1 = 0x0200_0000_0101L;
        final byte[] inner = Frames.udpFrame(0x0200_0000_4201L, 0x0200_0000_4202L, remote, pod, 64, 7000, 40000, 30);
        return List.of(
            Frames.udpFrame(port1, podMac, pod, remote, 64, 40000, 7000, 30),
            Frames.tcpFrame(port1, podMac, pod, remote, 64, 40001, 80, 100),
            VxlanTest.fromNode2(inner, 0x08, 42),
            VxlanTest.fromNode2(Frames.ethernet(-1L & 0xFFFF_FFFF_FFFFL, 0x0200_0000_4209L, Frames.ETH_ARP,
                Frames.arp(1, 0x0200_0000_4209L, ip("192.168.42.9"), 0, ip("192.168.42.1"))), 0x08, 42));
    }

    /**
     * Seeds for the NAT config ({@link NatTest#CONFIG}): inside traffic on Port4 (index 2), and on Port2 (index 0)
     * replies to the outside address, an ICMP error about a translated flow, fragments and unsolicited traffic.
     */
    private static List<byte[]> natSeeds()
    {
        final int server = NatTest.SERVER;
        final int outside = NatTest.OUTSIDE;
        final byte[] sentQuery = Frames.ipv4(outside, server, 17, 1, 0, Frames.udp(outside, server, 5555, 53,
            new byte[20]));
        return List.of(
            NatTest.udpFromInside(NatTest.HOST_A, 5555, server, 53),
            NatTest.tcpFrame(NatTest.PORT4_MAC, NatTest.HOST_A_MAC, NatTest.HOST_A, 40000, server, 80, 0x02),
            Frames.pingFrame(NatTest.PORT4_MAC, NatTest.HOST_A_MAC, NatTest.HOST_A, server, 64, 4242, 1),
            NatTest.udpFromInside(NatTest.HOST_B, 6000, outside, 5555),
            NatTest.udpFromOutside(server, 53, outside, 5555),
            NatTest.tcpFrame(NatTest.PORT2_MAC, NatTest.ROUTER_MAC, server, 80, outside, 40000, 0x12),
            NatTest.icmpError(NatTest.ROUTER, outside, 11, 0, sentQuery, sentQuery.length),
            Frames.ethernet(NatTest.PORT2_MAC, NatTest.ROUTER_MAC, Frames.ETH_IPV4,
                Frames.ipv4(server, outside, 17, 60, 0x2000, Frames.udp(server, outside, 53, 5555, new byte[16]))),
            Frames.ethernet(NatTest.PORT2_MAC, NatTest.ROUTER_MAC, Frames.ETH_IPV4,
                Frames.ipv4(server, outside, 17, 60, 3, new byte[16])));
    }

    @Test
    void shouldAccountForEveryFrameWithNatAndLeakNoSession() throws Exception
    {
        final Harness harness = new Harness(String.format(NatTest.CONFIG, ", \"filtering\": \"endpoint-independent\""));
        fuzz(harness, natSeeds(), seed -> seed < 4 ? NatTest.PORT4 : NatTest.PORT2, 20261124);
        final io.edgeplane.session.SessionTable table = harness.dataplane.nat().table();
        assertTrue(table.created() > 100, "the fuzz made sessions: " + table.created());
        // Three hours later every session has expired, and with the last of them every mapping went.
        final long later = (FRAMES + 10) * 1000L + 3 * 3600 * 1_000_000_000L;
        while (harness.tick(later) > 0)
        {
            harness.flush();
        }
        assertEquals(0, table.size(), "sessions leaked");
        assertEquals(0, table.mappingCount(), "mappings leaked");
        assertEquals(table.created(), table.expired(), "every session ended by its timer");
    }

    @Test
    void shouldAccountForEveryFrameAndEmitOnlyWellFormedOnes() throws Exception
    {
        fuzz(new Harness(), seeds(), seed -> 0, 20261122);
    }

    @Test
    void shouldAccountForEveryFrameThroughTheTunnelToo() throws Exception
    {
        // Pod frames enter on Port1 (index 0), VXLAN frames on the underlay Port3 (index 1).
        fuzz(new Harness(VxlanTest.CONFIG), tunnelSeeds(), seed -> seed >= 2 ? 1 : 0, 20261123);
    }

    private static void fuzz(final Harness harness, final List<byte[]> seeds,
        final java.util.function.IntUnaryOperator portOfSeed, final long seed) throws Exception
    {
        final int freeAtStart = harness.freeSlots();
        final Random random = new Random(seed);
        final Set<Long> accounted = new HashSet<>();
        long first = -1;
        for (int i = 0; i < FRAMES; i++)
        {
            final int which = random.nextInt(seeds.size());
            final long id = harness.receive(portOfSeed.applyAsInt(which), mutate(seeds.get(which), random));
            first = first < 0 ? id : first;
            if (i % 256 == 255)
            {
                harness.flush();
                check(harness, accounted);
            }
        }
        harness.flush();
        // Ten seconds later: whatever a stage still held (fragments waiting for their first one) has timed out.
        final long later = (first + FRAMES) * 1000L + 10_000_000_000L;
        while (harness.tick(later) > 0)
        {
            harness.flush();
        }
        check(harness, accounted);
        for (long id = first; id < first + FRAMES; id++)
        {
            assertTrue(accounted.contains(id), "frame " + id + " neither sent nor dropped");
        }
        assertEquals(freeAtStart, harness.freeSlots(), "pool slots leaked");
    }

    private static void check(final Harness harness, final Set<Long> accounted)
    {
        for (final Harness.Sent sent : harness.sent)
        {
            accounted.add(sent.packetId());
            final byte[] f = sent.frame();
            assertTrue(f.length >= 14, "runt emitted");
            final int type = (f[12] & 0xFF) << 8 | (f[13] & 0xFF);
            assertEquals(0, f[6] & 1, "multicast source MAC emitted");
            if (type == Frames.ETH_ARP)
            {
                assertTrue(f.length >= 42, "short ARP emitted");
                assertEquals(0x0001_0800, (f[14] & 0xFF) << 24 | (f[15] & 0xFF) << 16 | (f[16] & 0xFF) << 8 |
                    (f[17] & 0xFF), "ARP hardware/protocol type");
                continue;
            }
            assertEquals(Frames.ETH_IPV4, type, "only IPv4 and ARP are emitted");
            final int ihl = (f[14] & 0x0F) * 4;
            assertEquals(4, (f[14] & 0xFF) >>> 4, "version");
            assertTrue(ihl >= 20 && f.length >= 14 + ihl, "header inside the frame");
            final int totalLength = (f[16] & 0xFF) << 8 | (f[17] & 0xFF);
            assertEquals(f.length, 14 + totalLength, "frame trimmed to the IPv4 total length");
            assertEquals(0, Frames.naiveChecksum(f, 14, ihl, 0), "IPv4 header checksum of an emitted frame");
            assertTrue((f[14 + 8] & 0xFF) > 0, "TTL 0 emitted");
        }
        harness.sent.clear();
        for (final Harness.Dropped dropped : harness.dropped)
        {
            accounted.add(dropped.packetId());
        }
        harness.dropped.clear();
    }
}
