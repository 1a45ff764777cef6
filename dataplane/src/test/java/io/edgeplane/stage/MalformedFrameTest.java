package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.edgeplane.testing.Frames.ETH_IPV4;
import static io.edgeplane.testing.Frames.ip;
import static io.edgeplane.testing.Harness.CLIENT_MAC;
import static io.edgeplane.testing.Harness.PORT1_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every malformed-frame class is dropped under its own reason, interleaved with valid frames that must still be
 * forwarded, with no exception and no leaked pool slot.
 */
class MalformedFrameTest
{
    private static final int CLIENT = ip("10.1.0.10");
    private static final int SERVER = ip("10.2.0.20");

    private static byte[] validUdp()
    {
        return Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, SERVER, 64, 40000, 53, 32);
    }

    private static byte[] validTcp()
    {
        return Frames.tcpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, SERVER, 64, 40001, 80, 100);
    }

    private static byte[] mutate(final byte[] frame, final int index, final int value, final boolean fixChecksum)
    {
        final byte[] copy = frame.clone();
        copy[index] = (byte)value;
        return fixChecksum ? Frames.fixIpChecksum(copy, 14) : copy;
    }

    private static byte[] ipFrame(final int src, final int dst, final int protocol, final byte[] l4)
    {
        return Frames.ethernet(PORT1_MAC, CLIENT_MAC, ETH_IPV4, Frames.ipv4(src, dst, protocol, 64, 0, l4));
    }

    private static byte[] udpWithLength(final int udpLength, final int payload)
    {
        final byte[] l4 = Frames.udp(CLIENT, SERVER, 1, 2, new byte[payload]);
        l4[4] = (byte)(udpLength >>> 8);
        l4[5] = (byte)udpLength;
        return ipFrame(CLIENT, SERVER, 17, l4);
    }

    private static byte[] tcpWithOffset(final int dataOffsetWords, final int payload)
    {
        final byte[] l4 = Frames.tcp(CLIENT, SERVER, 1, 2, 0x10, new byte[payload]);
        l4[12] = (byte)(dataOffsetWords << 4);
        return ipFrame(CLIENT, SERVER, 6, l4);
    }

    /** A UDP packet whose IPv4 header carries {@code options} (padded to a multiple of 4 with EOL). */
    private static byte[] withOptions(final int... options)
    {
        final byte[] l4 = Frames.udp(CLIENT, SERVER, 1, 2, new byte[8]);
        final int optionBytes = (options.length + 3) / 4 * 4;
        final byte[] ip = new byte[20 + optionBytes + l4.length];
        final byte[] plain = Frames.ipv4(CLIENT, SERVER, 17, 64, 0, l4);
        System.arraycopy(plain, 0, ip, 0, 20);
        ip[0] = (byte)(0x40 | (20 + optionBytes) / 4);
        ip[2] = (byte)(ip.length >>> 8);
        ip[3] = (byte)ip.length;
        for (int i = 0; i < options.length; i++)
        {
            ip[20 + i] = (byte)options[i];
        }
        System.arraycopy(l4, 0, ip, 20 + optionBytes, l4.length);
        return Frames.fixIpChecksum(Frames.ethernet(PORT1_MAC, CLIENT_MAC, ETH_IPV4, ip), 14);
    }

    static Stream<Arguments> malformed()
    {
        final List<Arguments> cases = new ArrayList<>();
        final byte[] udp = validUdp();
        final byte[] tcp = validTcp();
        // Truncation at every header boundary.
        add(cases, "zero-length frame", () -> new byte[0], DropReason.ETH_TRUNCATED);
        add(cases, "truncated in Ethernet header", () -> Arrays.copyOf(udp, 13), DropReason.ETH_TRUNCATED);
        add(cases, "Ethernet header only", () -> Arrays.copyOf(udp, 14), DropReason.IP4_TOO_SHORT);
        add(cases, "truncated inside IPv4 header", () -> Arrays.copyOf(udp, 14 + 19), DropReason.IP4_TOO_SHORT);
        add(cases, "IPv4 header only (UDP cut)", () -> Arrays.copyOf(udp, 14 + 20), DropReason.IP4_LENGTH_TOO_BIG);
        add(cases, "truncated inside UDP payload", () -> Arrays.copyOf(udp, udp.length - 1),
            DropReason.IP4_LENGTH_TOO_BIG);
        add(cases, "truncated inside TCP header", () -> Arrays.copyOf(tcp, 14 + 20 + 10),
            DropReason.IP4_LENGTH_TOO_BIG);
        // IPv4 header fields.
        add(cases, "IP version 6 in an IPv4 ethertype", () -> mutate(udp, 14, 0x65, true), DropReason.IP4_BAD_VERSION);
        add(cases, "IHL 4", () -> mutate(udp, 14, 0x44, false), DropReason.IP4_BAD_IHL);
        add(cases, "IHL 0", () -> mutate(udp, 14, 0x40, false), DropReason.IP4_BAD_IHL);
        add(cases, "IHL beyond the frame", () -> Frames.fixIpChecksum(Arrays.copyOf(mutate(udp, 14, 0x4F, false),
            14 + 40), 14), DropReason.IP4_HEADER_TRUNCATED);
        add(cases, "bad header checksum", () -> mutate(udp, 14 + 10, udp[14 + 10] ^ 0x5A, false),
            DropReason.IP4_BAD_CHECKSUM);
        add(cases, "total length too big", () -> mutate(udp, 14 + 2, 0x7F, true), DropReason.IP4_LENGTH_TOO_BIG);
        add(cases, "total length too small", () ->
        {
            final byte[] f = mutate(udp, 14 + 2, 0, false);
            f[14 + 3] = 19;
            return Frames.fixIpChecksum(f, 14);
        }, DropReason.IP4_LENGTH_TOO_SMALL);
        add(cases, "TTL 0", () -> mutate(udp, 14 + 8, 0, true), DropReason.IP4_TTL_EXPIRED);
        add(cases, "TTL 1", () -> mutate(udp, 14 + 8, 1, true), DropReason.IP4_TTL_EXPIRED);
        // Martians, one per class.
        add(cases, "source 0/8", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("0.1.2.3"), SERVER, 64, 1, 2, 8),
            DropReason.IP4_SOURCE_MARTIAN);
        add(cases, "source 127/8", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("127.0.0.1"), SERVER, 64, 1, 2, 8),
            DropReason.IP4_SOURCE_MARTIAN);
        add(cases, "source multicast", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("224.0.0.5"), SERVER, 64, 1, 2,
            8), DropReason.IP4_SOURCE_MARTIAN);
        add(cases, "source limited broadcast", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("255.255.255.255"),
            SERVER, 64, 1, 2, 8), DropReason.IP4_SOURCE_MARTIAN);
        add(cases, "destination loopback", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("127.0.0.1"), 64,
            1, 2, 8), DropReason.IP4_DESTINATION_MARTIAN);
        add(cases, "destination 0/8", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("0.0.0.1"), 64,
            1, 2, 8), DropReason.IP4_DESTINATION_MARTIAN);
        // Router requirements (RFC 1812, 3927, 7126; Linux's ip_forward).
        add(cases, "loose source route option", () -> withOptions(131, 7, 4, 10, 2, 0, 20), DropReason.IP4_SOURCE_ROUTE);
        add(cases, "strict source route option", () -> withOptions(1, 137, 7, 4, 10, 2, 0, 20),
            DropReason.IP4_SOURCE_ROUTE);
        add(cases, "option with length 0", () -> withOptions(68, 0, 5, 1), DropReason.IP4_BAD_OPTIONS);
        add(cases, "option longer than the header", () -> withOptions(68, 12, 5, 1), DropReason.IP4_BAD_OPTIONS);
        add(cases, "source is the gateway's own address", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC,
            ip("10.2.0.1"), SERVER, 64, 1, 2, 8), DropReason.IP4_SOURCE_IS_LOCAL);
        add(cases, "link-local source", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("169.254.7.7"), SERVER, 64,
            1, 2, 8), DropReason.IP4_LINK_LOCAL);
        add(cases, "link-local destination", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("169.254.7.7"),
            64, 1, 2, 8), DropReason.IP4_LINK_LOCAL);
        add(cases, "unicast packet in an Ethernet broadcast frame", () -> Frames.udpFrame(0xFFFF_FFFF_FFFFL,
            CLIENT_MAC, CLIENT, SERVER, 64, 1, 2, 8), DropReason.IP4_L2_BROADCAST);
        add(cases, "connected subnet's network address", () -> Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT,
            ip("10.2.0.0"), 64, 1, 2, 8), DropReason.IP4_DESTINATION_MULTICAST);
        // L4 sanity.
        add(cases, "UDP length < 8", () -> udpWithLength(7, 10), DropReason.UDP_BAD_LENGTH);
        add(cases, "UDP length beyond IP payload", () -> udpWithLength(200, 10), DropReason.UDP_BAD_LENGTH);
        add(cases, "UDP header cut by IP length", () -> ipFrame(CLIENT, SERVER, 17, new byte[6]),
            DropReason.UDP_TRUNCATED);
        add(cases, "TCP data offset < 5", () -> tcpWithOffset(4, 10), DropReason.TCP_BAD_OFFSET);
        add(cases, "TCP data offset beyond packet", () -> tcpWithOffset(15, 10), DropReason.TCP_BAD_OFFSET);
        add(cases, "TCP header cut by IP length", () -> ipFrame(CLIENT, SERVER, 6, new byte[19]),
            DropReason.TCP_TRUNCATED);
        add(cases, "truncated ICMP", () -> ipFrame(CLIENT, SERVER, 1, new byte[7]), DropReason.ICMP_TRUNCATED);
        // ARP and VLAN.
        add(cases, "truncated ARP", () -> Arrays.copyOf(Frames.ethernet(PORT1_MAC, CLIENT_MAC, 0x0806,
            Frames.arp(1, CLIENT_MAC, CLIENT, 0, ip("10.1.0.1"))), 14 + 27), DropReason.ARP_TRUNCATED);
        add(cases, "ARP with hardware length 8", () ->
        {
            final byte[] f = Frames.ethernet(PORT1_MAC, CLIENT_MAC, 0x0806,
                Frames.arp(1, CLIENT_MAC, CLIENT, 0, ip("10.1.0.1")));
            f[14 + 4] = 8;
            return f;
        }, DropReason.ARP_MALFORMED);
        add(cases, "truncated VLAN tag", () -> Arrays.copyOf(Frames.ethernetVlan(PORT1_MAC, CLIENT_MAC, 0, ETH_IPV4,
            new byte[0]), 16), DropReason.VLAN_TRUNCATED);
        add(cases, "VLAN id not on the port", () -> Frames.ethernetVlan(PORT1_MAC, CLIENT_MAC, 42, ETH_IPV4,
            Arrays.copyOfRange(udp, 14, udp.length)), DropReason.VLAN_MISMATCH);
        add(cases, "unknown ethertype", () -> Frames.ethernet(PORT1_MAC, CLIENT_MAC, 0x88B5, new byte[46]),
            DropReason.ETH_UNKNOWN_TYPE);
        add(cases, "IPv6", () -> Frames.ethernet(PORT1_MAC, CLIENT_MAC, 0x86DD, new byte[60]),
            DropReason.IP6_UNSUPPORTED);
        add(cases, "unicast to another MAC", () -> mutate(udp, 5, 0x77, false), DropReason.ETH_NOT_FOR_US);
        add(cases, "multicast source MAC", () -> mutate(udp, 6, 0x01, false), DropReason.ETH_BAD_SOURCE_MAC);
        add(cases, "9000 bytes of garbage", () ->
        {
            final byte[] f = new byte[9000];
            new java.util.Random(9000).nextBytes(f);
            return f;
        }, DropReason.RX_OVERSIZE);
        add(cases, "1900 bytes of garbage to our MAC", () ->
        {
            final byte[] f = new byte[1900];
            new java.util.Random(1900).nextBytes(f);
            System.arraycopy(udp, 0, f, 0, 14);
            return f;
        }, null);
        return cases.stream();
    }

    private static void add(final List<Arguments> cases, final String name, final Supplier<byte[]> frame,
        final DropReason expected)
    {
        cases.add(Arguments.of(name, frame.get(), expected));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void shouldDropMalformedFrameUnderItsReasonAndKeepForwarding(
        final String name, final byte[] frame, final DropReason expected) throws Exception
    {
        final Harness harness = new Harness();
        final int freeAtStart = harness.freeSlots();
        final long[] valid = new long[6];
        final long[] bad = new long[5];
        for (int round = 0; round < 5; round++)
        {
            valid[round] = harness.receive(0, round % 2 == 0 ? validUdp() : validTcp());
            bad[round] = harness.receive(0, frame);
        }
        valid[5] = harness.receive(0, validUdp());
        harness.flush();

        for (final long id : valid)
        {
            final Harness.Sent sent = harness.sentFor(id);
            assertNotNull(sent, "valid packet " + id + " was not forwarded next to: " + name);
            assertEquals(1, sent.port());
            assertNull(harness.dropFor(id));
        }
        for (final long id : bad)
        {
            final Harness.Sent sent = harness.sentFor(id);
            if (sent != null)
            {
                // The only thing a malformed packet may cause is an ICMP error back out of the ingress port.
                assertEquals(0, sent.port(), name + " was forwarded");
                assertEquals(1, sent.frame()[14 + 9], name + ": not ICMP");
                assertEquals(11, sent.frame()[14 + 20], name + ": not time exceeded");
            }
            if (expected != null)
            {
                assertEquals(expected, harness.dropFor(id), name);
            }
            else
            {
                assertNotNull(harness.dropFor(id), name + " was neither sent nor dropped");
            }
        }
        if (expected != null)
        {
            assertEquals(5, harness.snapshot().drop(expected), "counter " + expected.label());
        }
        assertEquals(freeAtStart, harness.freeSlots(), "pool slots leaked");
    }

    /** RFC 1071 the plain way: the 16-bit big-endian words added with end-around carry. */
    private static int onesComplementSum(final byte[] frame, final int from, final int length)
    {
        int sum = 0;
        for (int i = from; i < from + length; i += 2)
        {
            sum += (frame[i] & 0xFF) << 8 | frame[i + 1] & 0xFF;
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return sum;
    }

    @Test
    void shouldDropExactlyTheHeadersWhoseChecksumDoesNotVerifyAndForwardTheRestWithAValidOne() throws Exception
    {
        // Random TOS, identification, DF, TTL and checksum (half of them recomputed, half random), judged by the
        // naive sum above: ip4-input reads the header as three words and ip4-rewrite updates TTL and checksum in
        // one store, so both are checked against the byte-by-byte definition.
        final Harness harness = new Harness();
        final java.util.Random random = new java.util.Random(1071);
        final int frames = 20_000;
        final boolean[] valid = new boolean[frames];
        final int[] ttl = new int[frames];
        final long[] ids = new long[frames];
        for (int f = 0; f < frames; f++)
        {
            final byte[] frame = validUdp();
            frame[14 + 1] = (byte)random.nextInt(256);
            frame[14 + 4] = (byte)random.nextInt(256);
            frame[14 + 5] = (byte)random.nextInt(256);
            frame[14 + 6] = (byte)(random.nextBoolean() ? 0x40 : 0);
            ttl[f] = 2 + random.nextInt(254);
            frame[14 + 8] = (byte)ttl[f];
            Frames.fixIpChecksum(frame, 14);
            if (random.nextBoolean())
            {
                final int checksum = random.nextInt(4) == 0 ? (random.nextBoolean() ? 0 : 0xFFFF) :
                    random.nextInt(0x10000);
                frame[14 + 10] = (byte)(checksum >>> 8);
                frame[14 + 11] = (byte)checksum;
            }
            valid[f] = onesComplementSum(frame, 14, 20) == 0xFFFF;
            ids[f] = harness.receive(0, frame);
        }
        harness.flush();

        final java.util.Map<Long, Harness.Sent> sent = new java.util.HashMap<>();
        harness.sent.forEach(s -> sent.put(s.packetId(), s));
        final java.util.Map<Long, DropReason> dropped = new java.util.HashMap<>();
        harness.dropped.forEach(d -> dropped.put(d.packetId(), d.reason()));
        int bad = 0;
        for (int f = 0; f < frames; f++)
        {
            if (!valid[f])
            {
                bad++;
                assertEquals(DropReason.IP4_BAD_CHECKSUM, dropped.get(ids[f]), "frame " + f);
                continue;
            }
            final Harness.Sent out = sent.get(ids[f]);
            assertNotNull(out, "frame " + f + " verifies but was not forwarded: " + dropped.get(ids[f]));
            assertEquals(0xFFFF, onesComplementSum(out.frame(), 14, 20), "frame " + f + ": checksum after rewrite");
            assertEquals(ttl[f] - 1, out.frame()[14 + 8] & 0xFF, "frame " + f + ": TTL");
        }
        assertTrue(bad > frames / 4 && bad < frames * 3 / 4, "both kinds were sent: " + bad + " bad");
        assertEquals(bad, harness.snapshot().drop(DropReason.IP4_BAD_CHECKSUM));
    }
}
