package io.edgeplane.stage;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.NatConfig;
import io.edgeplane.counters.DropReason;
import io.edgeplane.session.SessionTable;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masquerade through the whole pipeline, one test per requirement of RFC 4787 (UDP), RFC 5382 (TCP) and RFC 5508
 * (ICMP). Outputs are decoded by pcap4j, and every checksum of every output (outer IP, L4, and inside ICMP errors
 * the quoted IP and L4) is recomputed from scratch here, independently of the incremental updates under test.
 */
class NatTest
{
    static final String CONFIG = """
        {
          "ports": [
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" },
            { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.4.0.1/24" }
          ],
          "neighbors": [
            { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" },
            { "interface": "Port3", "ip": "10.3.0.254", "mac": "02:00:00:00:03:fe" },
            { "interface": "Port4", "ip": "10.4.0.2", "mac": "02:00:00:00:04:02" },
            { "interface": "Port4", "ip": "10.4.0.3", "mac": "02:00:00:00:04:03" }
          ],
          "routes": [
            { "interface": "Port2", "prefix": "0.0.0.0/0", "nextHop": "10.2.0.254", "metric": 100 },
            { "interface": "Port3", "prefix": "0.0.0.0/0", "nextHop": "10.3.0.254", "metric": 200 }
          ],
          "nat": { "inside": ["Port4"], "maxSessions": 4096 %s }
        }
        """;
    static final int PORT2 = 0;
    static final int PORT3 = 1;
    static final int PORT4 = 2;
    static final long PORT2_MAC = 0x0200_0000_0201L;
    static final long PORT4_MAC = 0x0200_0000_0401L;
    static final long ROUTER_MAC = 0x0200_0000_02FEL;
    static final long HOST_A_MAC = 0x0200_0000_0402L;
    static final int HOST_A = ip("10.4.0.2");
    static final int HOST_B = ip("10.4.0.3");
    static final int OUTSIDE = ip("10.2.0.1");
    static final int SERVER = ip("198.51.100.7");
    static final int ROUTER = ip("10.2.0.254");
    static final long SEC = 1_000_000_000L;

    private static Harness harness(final String natExtra) throws Exception
    {
        return new Harness(String.format(CONFIG, natExtra));
    }

    static byte[] udpFromInside(final int source, final int sourcePort, final int destination, final int destinationPort)
    {
        return Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4, Frames.ipv4(source, destination, 17, 64,
            0x4000, Frames.udp(source, destination, sourcePort, destinationPort, Frames.payload(20, sourcePort))));
    }

    static byte[] udpFromOutside(final int source, final int sourcePort, final int destination,
        final int destinationPort)
    {
        return Frames.ethernet(PORT2_MAC, ROUTER_MAC, Frames.ETH_IPV4, Frames.ipv4(source, destination, 17, 60,
            0x4000, Frames.udp(source, destination, sourcePort, destinationPort, Frames.payload(20, 7))));
    }

    static byte[] tcpFrame(final long dstMac, final long srcMac, final int source, final int sourcePort,
        final int destination, final int destinationPort, final int flags)
    {
        return Frames.ethernet(dstMac, srcMac, Frames.ETH_IPV4, Frames.ipv4(source, destination, 6, 64, 0x4000,
            Frames.tcp(source, destination, sourcePort, destinationPort, flags, new byte[0])));
    }

    /** The one frame sent for a packet, its checksums checked from scratch; fails when it was not sent. */
    static IpV4Packet sent(final Harness harness, final long id, final int port) throws Exception
    {
        final Harness.Sent sent = harness.sentFor(id);
        assertNotNull(sent, "packet " + id + " was not sent; dropped as " + harness.dropFor(id));
        assertEquals(port, sent.port(), "egress port");
        assertChecksums(sent.frame(), 14);
        return EthernetPacket.newPacket(sent.frame(), 0, sent.frame().length).get(IpV4Packet.class);
    }

    /** Recompute the IPv4 header and L4 checksums (and, in an ICMP error, the quoted ones) from the bytes. */
    static void assertChecksums(final byte[] frame, final int l3)
    {
        final ByteBuffer b = ByteBuffer.wrap(frame);
        final int ihl = (frame[l3] & 0x0F) * 4;
        final int total = b.getShort(l3 + 2) & 0xFFFF;
        assertEquals(0, Frames.naiveChecksum(frame, l3, ihl, 0), "IPv4 header checksum");
        final int protocol = frame[l3 + 9] & 0xFF;
        final int l4 = l3 + ihl;
        final int length = l3 + total - l4;
        final int src = b.getInt(l3 + 12);
        final int dst = b.getInt(l3 + 16);
        final long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + protocol + length;
        if ((b.getShort(l3 + 6) & 0x1FFF) != 0 || (b.getShort(l3 + 6) & 0x2000) != 0)
        {
            return;
        }
        if (protocol == 6 || protocol == 17 && b.getShort(l4 + 6) != 0)
        {
            assertEquals(0, Frames.naiveChecksum(frame, l4, length, pseudo), "L4 checksum");
        }
        else if (protocol == 1)
        {
            assertEquals(0, Frames.naiveChecksum(frame, l4, length, 0), "ICMP checksum");
            final int type = frame[l4] & 0xFF;
            if (type == 3 || type == 11)
            {
                final int quoted = l4 + 8;
                assertEquals(0, Frames.naiveChecksum(frame, quoted, (frame[quoted] & 0x0F) * 4, 0),
                    "quoted IPv4 header checksum");
            }
        }
    }

    static int udpSourcePort(final IpV4Packet packet)
    {
        return packet.get(UdpPacket.class).getHeader().getSrcPort().valueAsInt();
    }

    static int udpDestinationPort(final IpV4Packet packet)
    {
        return packet.get(UdpPacket.class).getHeader().getDstPort().valueAsInt();
    }

    static int address(final java.net.Inet4Address address)
    {
        return ByteBuffer.wrap(address.getAddress()).getInt();
    }

    @Test
    void shouldMasqueradeOutboundUdpAndTranslateTheReplyBack() throws Exception
    {
        final Harness harness = harness("");
        final long out = harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        harness.flush();
        final IpV4Packet translated = sent(harness, out, PORT2);
        assertEquals(OUTSIDE, address(translated.getHeader().getSrcAddr()));
        assertEquals(SERVER, address(translated.getHeader().getDstAddr()));
        assertEquals(5555, udpSourcePort(translated), "the inside port is kept when it is free (preservation)");
        assertEquals(63, translated.getHeader().getTtlAsInt());

        final long back = harness.receive(PORT2, udpFromOutside(SERVER, 53, OUTSIDE, 5555));
        harness.flush();
        final IpV4Packet reply = sent(harness, back, PORT4);
        assertEquals(SERVER, address(reply.getHeader().getSrcAddr()));
        assertEquals(HOST_A, address(reply.getHeader().getDstAddr()));
        assertEquals(5555, udpDestinationPort(reply));
        assertEquals(1, harness.sessions());
    }

    @Test
    void rfc4787Req1EndpointIndependentMappingAndPortsNeverCollide() throws Exception
    {
        final Harness harness = harness("");
        final long toFirst = harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        final long toSecond = harness.receive(PORT4, udpFromInside(HOST_A, 5555, ip("203.0.113.9"), 4000));
        final long otherHost = harness.receive(PORT4, udpFromInside(HOST_B, 5555, SERVER, 53));
        harness.flush();
        final int first = udpSourcePort(sent(harness, toFirst, PORT2));
        assertEquals(first, udpSourcePort(sent(harness, toSecond, PORT2)), "same mapping for every destination");
        final int other = udpSourcePort(sent(harness, otherHost, PORT2));
        assertNotEquals(first, other, "a second inside host with the same port gets another outside port");
        assertTrue(other >= 1024 && other <= 65535);
    }

    @Test
    void rfc4787Req2PairedPoolingGivesEachInsideHostOneOutsideAddress() throws Exception
    {
        final Harness harness = harness(", \"addresses\": [\"10.2.0.100\", \"10.2.0.101\", \"10.2.0.102\"]");
        final Map<Integer, Integer> addressOf = new HashMap<>();
        final Set<Integer> used = new HashSet<>();
        for (int host = 2; host < 60; host++)
        {
            for (int flow = 0; flow < 4; flow++)
            {
                final int inside = ip("10.4.0.0") + host;
                final long id = harness.receive(PORT4, udpFromInside(inside, 6000 + flow, SERVER + flow, 53));
                harness.flush();
                final Harness.Sent sent = harness.sentFor(id);
                if (sent == null)
                {
                    // Hosts beyond the static neighbors are fine outbound: the router's MAC is what is needed.
                    throw new AssertionError("not sent: " + harness.dropFor(id));
                }
                final int source = ByteBuffer.wrap(sent.frame()).getInt(14 + 12);
                final Integer before = addressOf.putIfAbsent(inside, source);
                assertTrue(before == null || before == source, "host " + host + " changed outside address");
                used.add(source);
            }
        }
        assertEquals(Set.of(ip("10.2.0.100"), ip("10.2.0.101"), ip("10.2.0.102")), used, "the pool is used");
        // Pool addresses are the gateway's: it answers ping on them.
        final long ping = harness.receive(PORT2, Frames.ethernet(PORT2_MAC, ROUTER_MAC, Frames.ETH_IPV4,
            Frames.ipv4(ROUTER, ip("10.2.0.101"), 1, 64, 0, Frames.icmpEcho(8, 9, 1, new byte[8]))));
        harness.flush();
        assertEquals(ip("10.2.0.101"), address(sent(harness, ping, PORT2).getHeader().getSrcAddr()));
    }

    @Test
    void rfc4787Req8FilteringIsAddressAndPortDependentByDefault() throws Exception
    {
        final Harness harness = harness("");
        harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        final long otherPort = harness.receive(PORT2, udpFromOutside(SERVER, 54, OUTSIDE, 5555));
        final long otherHost = harness.receive(PORT2, udpFromOutside(ip("203.0.113.9"), 53, OUTSIDE, 5555));
        final long unmapped = harness.receive(PORT2, udpFromOutside(SERVER, 53, OUTSIDE, 7777));
        harness.flush();
        assertEquals(DropReason.NAT_NO_SESSION, harness.dropFor(otherPort));
        assertEquals(DropReason.NAT_NO_SESSION, harness.dropFor(otherHost));
        assertEquals(DropReason.NAT_NO_SESSION, harness.dropFor(unmapped));
        assertEquals(1, harness.sent.size(), "nothing is answered");
    }

    @Test
    void rfc4787Req8EndpointIndependentFilteringAcceptsAnyRemoteOnAMappedPort() throws Exception
    {
        final Harness harness = harness(", \"filtering\": \"endpoint-independent\"");
        harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        final long otherHost = harness.receive(PORT2, udpFromOutside(ip("203.0.113.9"), 999, OUTSIDE, 5555));
        final long unmapped = harness.receive(PORT2, udpFromOutside(SERVER, 53, OUTSIDE, 7777));
        harness.flush();
        final IpV4Packet in = sent(harness, otherHost, PORT4);
        assertEquals(HOST_A, address(in.getHeader().getDstAddr()));
        assertEquals(5555, udpDestinationPort(in));
        assertEquals(DropReason.NAT_NO_SESSION, harness.dropFor(unmapped));
        // The inside host's answer to the new remote uses the same mapping.
        final long answer = harness.receive(PORT4, udpFromInside(HOST_A, 5555, ip("203.0.113.9"), 999));
        harness.flush();
        assertEquals(5555, udpSourcePort(sent(harness, answer, PORT2)));
    }

    @Test
    void rfc4787Req9HairpinningPresentsTheSendersOutsideEndpoint() throws Exception
    {
        final Harness harness = harness("");
        // A talks out first: its mapping is OUTSIDE:5555.
        harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        harness.flush();
        // B reaches A through A's outside endpoint.
        final long hairpin = harness.receive(PORT4, udpFromInside(HOST_B, 6666, OUTSIDE, 5555));
        harness.flush();
        final IpV4Packet atA = sent(harness, hairpin, PORT4);
        assertEquals(HOST_A, address(atA.getHeader().getDstAddr()));
        assertEquals(5555, udpDestinationPort(atA));
        assertEquals(OUTSIDE, address(atA.getHeader().getSrcAddr()), "source is B's outside address (REQ-9)");
        final int bOutsidePort = udpSourcePort(atA);
        // A answers B's outside endpoint and B sees it come from A's outside endpoint.
        final long answer = harness.receive(PORT4, udpFromInside(HOST_A, 5555, OUTSIDE, bOutsidePort));
        harness.flush();
        final IpV4Packet atB = sent(harness, answer, PORT4);
        assertEquals(HOST_B, address(atB.getHeader().getDstAddr()));
        assertEquals(6666, udpDestinationPort(atB));
        assertEquals(OUTSIDE, address(atB.getHeader().getSrcAddr()));
        assertEquals(5555, udpSourcePort(atB));
    }

    @Test
    void rfc4787Req5And6UdpMappingLasts300SecondsAndOutboundPacketsRefreshIt() throws Exception
    {
        final Harness harness = harness("");
        harness.receiveAt(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53), 0);
        harness.receiveAt(PORT4, udpFromInside(HOST_B, 5555, SERVER, 53), 0);
        harness.flush();
        // A refreshes its mapping every 100 s; B stays quiet.
        for (long t = 100; t <= 400; t += 100)
        {
            harness.receiveAt(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53), t * SEC);
            harness.flush();
        }
        final long toA = harness.receiveAt(PORT2, udpFromOutside(SERVER, 53, OUTSIDE, 5555), 450 * SEC);
        harness.flush();
        assertEquals(HOST_A, address(sent(harness, toA, PORT4).getHeader().getDstAddr()));
        assertEquals(1, harness.sessions(), "B's idle session expired after 300 s");
        final long late = harness.receiveAt(PORT2, udpFromOutside(SERVER, 53, OUTSIDE, 5555), 751 * SEC);
        harness.flush();
        assertEquals(DropReason.NAT_NO_SESSION, harness.dropFor(late), "idle 301 s: gone");
        assertEquals(0, harness.sessions());
    }

    @Test
    void rfc5382TcpStateFromFlagsSetsTheTimeouts() throws Exception
    {
        final Harness harness = harness("");
        // Established: SYN out, SYN-ACK in, ACK out; then idle 2 h.
        final long syn = harness.receiveAt(PORT4, tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40000, SERVER, 443, 0x02), 0);
        harness.flush();
        final int mapped = sent(harness, syn, PORT2).get(TcpPacket.class).getHeader().getSrcPort().valueAsInt();
        harness.receiveAt(PORT2, tcpFrame(PORT2_MAC, ROUTER_MAC, SERVER, 443, OUTSIDE, mapped, 0x12), SEC);
        harness.receiveAt(PORT4, tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40000, SERVER, 443, 0x10), SEC);
        // Half-open: SYN out, nothing back.
        harness.receiveAt(PORT4, tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40001, SERVER, 443, 0x02), SEC);
        harness.flush();
        assertEquals(2, harness.sessions());
        final long afterTwoHours = harness.receiveAt(PORT2,
            tcpFrame(PORT2_MAC, ROUTER_MAC, SERVER, 443, OUTSIDE, mapped, 0x18), 7400 * SEC);
        harness.flush();
        assertEquals(HOST_A, address(sent(harness, afterTwoHours, PORT4).getHeader().getDstAddr()),
            "established flows live 2 h 4 min idle (REQ-5)");
        assertEquals(1, harness.sessions(), "the half-open one went after 240 s");
        // FIN both ways: transitory again (240 s).
        harness.receiveAt(PORT4, tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40000, SERVER, 443, 0x11), 7401 * SEC);
        harness.receiveAt(PORT2, tcpFrame(PORT2_MAC, ROUTER_MAC, SERVER, 443, OUTSIDE, mapped, 0x11), 7401 * SEC);
        harness.flush();
        harness.receiveAt(PORT4, udpFromInside(HOST_B, 1, SERVER, 1), 7643 * SEC);
        harness.tick(7643 * SEC);
        harness.flush();
        assertEquals(1, harness.sessions(), "closed connection gone 240 s (and the timer spread) after the last FIN; only B's UDP left");
    }

    @Test
    void rfc5382UnsolicitedInboundSynIsDroppedSilently() throws Exception
    {
        final Harness harness = harness("");
        final long syn = harness.receive(PORT2, tcpFrame(PORT2_MAC, ROUTER_MAC, SERVER, 5000, OUTSIDE, 22, 0x02));
        harness.flush();
        assertEquals(DropReason.NAT_NO_SESSION, harness.dropFor(syn));
        assertTrue(harness.sent.isEmpty(), "no RST, no ICMP");
    }

    @Test
    void rfc5382SimultaneousOpenWorks() throws Exception
    {
        final Harness harness = harness("");
        final long synOut = harness.receive(PORT4, tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40000, SERVER, 5000, 0x02));
        harness.flush();
        final int mapped = sent(harness, synOut, PORT2).get(TcpPacket.class).getHeader().getSrcPort().valueAsInt();
        final long synIn = harness.receive(PORT2, tcpFrame(PORT2_MAC, ROUTER_MAC, SERVER, 5000, OUTSIDE, mapped, 0x02));
        final long synAckOut = harness.receive(PORT4,
            tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40000, SERVER, 5000, 0x12));
        final long synAckIn = harness.receive(PORT2,
            tcpFrame(PORT2_MAC, ROUTER_MAC, SERVER, 5000, OUTSIDE, mapped, 0x12));
        harness.flush();
        final IpV4Packet in = sent(harness, synIn, PORT4);
        assertEquals(40000, in.get(TcpPacket.class).getHeader().getDstPort().valueAsInt());
        sent(harness, synAckOut, PORT2);
        sent(harness, synAckIn, PORT4);
        assertEquals(1, harness.sessions());
        for (int w = 0; w < harness.workers.count(); w++)
        {
            final SessionTable table = harness.workers.get(w).sessions();
            if (table.size() == 1)
            {
                assertTrue(SessionTable.tcpEstablished(table.tcpState(0)));
            }
        }
    }

    @Test
    void rfc5508PingFromInsideHasItsIdentifierTranslated() throws Exception
    {
        final Harness harness = harness("");
        final long request = harness.receive(PORT4, Frames.pingFrame(PORT4_MAC, HOST_A_MAC, HOST_A, SERVER, 64, 77, 1));
        final long fromB = harness.receive(PORT4, Frames.pingFrame(PORT4_MAC, HOST_A_MAC, HOST_B, SERVER, 64, 77, 1));
        harness.flush();
        final IpV4Packet out = sent(harness, request, PORT2);
        assertEquals(OUTSIDE, address(out.getHeader().getSrcAddr()));
        final ByteBuffer icmp = ByteBuffer.wrap(out.getPayload().getRawData());
        final int id = icmp.getShort(4) & 0xFFFF;
        final int idB = ByteBuffer.wrap(sent(harness, fromB, PORT2).getPayload().getRawData()).getShort(4) & 0xFFFF;
        assertNotEquals(id, idB, "two hosts' identifiers do not collide outside");
        final long reply = harness.receive(PORT2, Frames.ethernet(PORT2_MAC, ROUTER_MAC, Frames.ETH_IPV4,
            Frames.ipv4(SERVER, OUTSIDE, 1, 60, 0, Frames.icmpEcho(0, id, 1, Frames.payload(56, 1)))));
        harness.flush();
        final IpV4Packet back = sent(harness, reply, PORT4);
        assertEquals(HOST_A, address(back.getHeader().getDstAddr()));
        assertEquals(77, ByteBuffer.wrap(back.getPayload().getRawData()).getShort(4) & 0xFFFF);
        assertTrue(back.get(IcmpV4CommonPacket.class).hasValidChecksum(false));
    }

    /** An ICMP error from {@code from} about the packet {@code quoted} (its IPv4 header and 8 bytes, or more). */
    static byte[] icmpError(final int from, final int to, final int type, final int code, final byte[] quoted,
        final int quotedLength)
    {
        final ByteBuffer icmp = ByteBuffer.allocate(8 + quotedLength);
        icmp.put((byte)type).put((byte)code).putShort((short)0).putInt(0).put(quoted, 0, quotedLength);
        final byte[] a = icmp.array();
        final int sum = Frames.naiveChecksum(a, 0, a.length, 0);
        a[2] = (byte)(sum >>> 8);
        a[3] = (byte)sum;
        return Frames.ethernet(PORT2_MAC, ROUTER_MAC, Frames.ETH_IPV4, Frames.ipv4(from, to, 1, 64, 0, a));
    }

    @Test
    void rfc5508IcmpErrorsAboutATranslatedFlowGoBackToTheInsideHostWithEveryChecksumRight() throws Exception
    {
        for (final int quotedExtra : new int[] {8, 28})
        {
            final Harness harness = harness("");
            final long out = harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
            final long tcpOut = harness.receive(PORT4,
                tcpFrame(PORT4_MAC, HOST_A_MAC, HOST_A, 40000, SERVER, 80, 0x02));
            harness.flush();
            final byte[] sentUdp = harness.sentFor(out).frame();
            final byte[] sentTcp = harness.sentFor(tcpOut).frame();
            final byte[] quotedUdp = java.util.Arrays.copyOfRange(sentUdp, 14, sentUdp.length);
            final byte[] quotedTcp = java.util.Arrays.copyOfRange(sentTcp, 14, sentTcp.length);
            // Time exceeded from a router beyond the gateway; port unreachable from the server itself.
            final long timeExceeded = harness.receive(PORT2,
                icmpError(ROUTER, OUTSIDE, 11, 0, quotedUdp, 20 + quotedExtra));
            final long unreachable = harness.receive(PORT2,
                icmpError(SERVER, OUTSIDE, 3, 3, quotedTcp, Math.min(quotedTcp.length, 20 + quotedExtra)));
            harness.flush();
            for (final long id : new long[] {timeExceeded, unreachable})
            {
                final IpV4Packet error = sent(harness, id, PORT4);
                assertEquals(HOST_A, address(error.getHeader().getDstAddr()));
                final byte[] icmp = error.getPayload().getRawData();
                final ByteBuffer q = ByteBuffer.wrap(icmp, 8, icmp.length - 8).slice();
                assertEquals(HOST_A, q.getInt(12), "quoted source is the inside host");
                assertEquals(SERVER, q.getInt(16));
                assertEquals(id == timeExceeded ? 5555 : 40000, q.getShort(20) & 0xFFFF, "quoted source port");
                if (id == timeExceeded && quotedExtra > 8)
                {
                    // The quoted UDP checksum, over the whole original datagram, is right for the inside tuple.
                    final byte[] original = udpFromInside(HOST_A, 5555, SERVER, 53);
                    assertEquals(ByteBuffer.wrap(original).getShort(14 + 20 + 6), q.getShort(26));
                }
            }
            assertEquals(ROUTER, address(sent(harness, timeExceeded, PORT4).getHeader().getSrcAddr()));
            assertEquals(SERVER, address(sent(harness, unreachable, PORT4).getHeader().getSrcAddr()));
            // The errors did not end the mapping.
            final long reply = harness.receive(PORT2, udpFromOutside(SERVER, 53, OUTSIDE, 5555));
            harness.flush();
            sent(harness, reply, PORT4);
        }
    }

    @Test
    void fragmentsOfATranslatedDatagramAreTranslatedInOrderOrNotAndOverlongOnesDropped() throws Exception
    {
        for (final boolean outOfOrder : new boolean[] {false, true})
        {
            final Harness harness = harness("");
            final byte[] udp = Frames.udp(HOST_A, SERVER, 5555, 53, Frames.payload(40, 3));
            final byte[] firstPart = java.util.Arrays.copyOfRange(udp, 0, 24);
            final byte[] secondPart = java.util.Arrays.copyOfRange(udp, 24, udp.length);
            final byte[] firstFrame = Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4,
                Frames.ipv4(HOST_A, SERVER, 17, 64, 0x2000, firstPart));
            final byte[] secondFrame = Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4,
                Frames.ipv4(HOST_A, SERVER, 17, 64, 3, secondPart));
            final long second;
            final long first;
            if (outOfOrder)
            {
                // The later fragment first, in a vector of its own: it waits for the first one.
                second = harness.receiveAt(PORT4, secondFrame, SEC);
                harness.flush();
                assertNull(harness.sentFor(second));
                assertNull(harness.dropFor(second));
                first = harness.receiveAt(PORT4, firstFrame, SEC + 1000);
            }
            else
            {
                first = harness.receiveAt(PORT4, firstFrame, SEC);
                second = harness.receiveAt(PORT4, secondFrame, SEC + 1000);
            }
            final long stray = harness.receiveAt(PORT4, Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4,
                Frames.ipv4(HOST_B, SERVER, 17, 64, 3, secondPart)), SEC + 2000);
            final long overlong = harness.receiveAt(PORT4, Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4,
                Frames.ipv4(HOST_A, SERVER, 17, 64, 8189, secondPart)), SEC + 3000);
            harness.flush();
            final byte[] a = harness.sentFor(first).frame();
            final byte[] b = harness.sentFor(second).frame();
            assertEquals(OUTSIDE, ByteBuffer.wrap(a).getInt(14 + 12));
            assertEquals(OUTSIDE, ByteBuffer.wrap(b).getInt(14 + 12));
            assertEquals(0, Frames.naiveChecksum(b, 14, 20, 0), "the held fragment's header checksum");
            // Reassembled, the datagram's UDP checksum is right for the translated addresses.
            final ByteBuffer whole = ByteBuffer.allocate(udp.length);
            whole.put(a, 34, 24).put(b, 34, secondPart.length);
            final int src = OUTSIDE;
            final long pseudo = (src >>> 16) + (src & 0xFFFF) + (SERVER >>> 16) + (SERVER & 0xFFFF) + 17 + udp.length;
            assertEquals(0, Frames.naiveChecksum(whole.array(), 0, udp.length, pseudo));
            assertEquals(DropReason.IP4_FRAGMENT_OVERFLOW, harness.dropFor(overlong));
            // A fragment whose first fragment never comes is dropped after two seconds.
            assertNull(harness.dropFor(stray));
            harness.tick(SEC + NatStage.HOLD_NANOS + 2 * WORKER_TICK);
            harness.flush();
            assertEquals(DropReason.NAT_FRAGMENT_TIMEOUT, harness.dropFor(stray));
            assertEquals(harness.slotCount(), harness.freeSlots(), "no slot kept");
        }
    }

    private static final long WORKER_TICK = io.edgeplane.timer.WorkerTimers.TICK_NANOS;

    @Test
    void aFullTableRefusesNewFlowsButKeepsEstablishedOnes() throws Exception
    {
        final Harness small = new Harness(String.format(CONFIG, "").replace("\"maxSessions\": 4096",
            "\"maxSessions\": 2"));
        small.receive(PORT4, udpFromInside(HOST_A, 1000, SERVER, 53));
        small.receive(PORT4, udpFromInside(HOST_A, 1001, SERVER, 53));
        final long third = small.receive(PORT4, udpFromInside(HOST_A, 1002, SERVER, 53));
        final long established = small.receive(PORT4, udpFromInside(HOST_A, 1000, SERVER, 53));
        small.flush();
        assertEquals(DropReason.NAT_TABLE_FULL, small.dropFor(third));
        sent(small, established, PORT2);
    }

    @Test
    void anExhaustedPortRangeIsCounted() throws Exception
    {
        final Harness harness = harness(", \"portRange\": \"2000-2003\"");
        // All of one inside host's flows belong to one worker, which has its slice of the range: 4 / workers ports.
        final int slice = 4 / harness.workers.count();
        final long[] flows = new long[slice + 1];
        for (int i = 0; i <= slice; i++)
        {
            flows[i] = harness.receive(PORT4, udpFromInside(HOST_A, 1000 + i, SERVER, 53));
        }
        harness.flush();
        final Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < slice; i++)
        {
            final int port = udpSourcePort(sent(harness, flows[i], PORT2));
            assertTrue(port >= 2000 && port <= 2003, "mapped port " + port + " is in the range");
            ports.add(port);
        }
        assertEquals(slice, ports.size(), "no two flows share a mapped port");
        assertEquals(DropReason.NAT_PORTS_EXHAUSTED, harness.dropFor(flows[slice]));
    }

    @Test
    void theOutsidePortFollowsTheBestDefaultRoute() throws Exception
    {
        final Harness harness = harness("");
        final long before = harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        harness.flush();
        assertEquals(OUTSIDE, address(sent(harness, before, PORT2).getHeader().getSrcAddr()));
        harness.dataplane.routes().remove(PORT2, 0, 0);
        final long after = harness.receive(PORT4, udpFromInside(HOST_A, 5555, SERVER, 53));
        final long otherFlow = harness.receive(PORT4, udpFromInside(HOST_A, 5556, SERVER, 53));
        harness.flush();
        assertEquals(ip("10.3.0.1"), address(sent(harness, after, PORT3).getHeader().getSrcAddr()),
            "an existing flow is mapped again on the new outside port");
        assertEquals(ip("10.3.0.1"), address(sent(harness, otherFlow, PORT3).getHeader().getSrcAddr()));
        final long reply = harness.receive(PORT3, Frames.ethernet(0x0200_0000_0301L, 0x0200_0000_03FEL,
            Frames.ETH_IPV4, Frames.ipv4(SERVER, ip("10.3.0.1"), 17, 60, 0, Frames.udp(SERVER, ip("10.3.0.1"), 53,
                udpSourcePort(sent(harness, after, PORT3)), new byte[4]))));
        harness.flush();
        assertEquals(HOST_A, address(sent(harness, reply, PORT4).getHeader().getDstAddr()));
    }

    @Test
    void aZeroUdpChecksumStaysZero() throws Exception
    {
        final Harness harness = harness("");
        final byte[] frame = udpFromInside(HOST_A, 5555, SERVER, 53);
        frame[14 + 20 + 6] = 0;
        frame[14 + 20 + 7] = 0;
        final long id = harness.receive(PORT4, frame);
        harness.flush();
        final byte[] out = harness.sentFor(id).frame();
        assertEquals(0, ByteBuffer.wrap(out).getShort(14 + 20 + 6));
    }

    @Test
    void aTranslatedPacketThatExpiresHereIsAnsweredUntranslated() throws Exception
    {
        final Harness harness = harness("");
        final byte[] frame = Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4, Frames.ipv4(HOST_A, SERVER, 17, 1,
            0, Frames.udp(HOST_A, SERVER, 5555, 33434, new byte[8])));
        final long id = harness.receive(PORT4, frame);
        harness.flush();
        assertEquals(DropReason.IP4_TTL_EXPIRED, harness.dropFor(id));
        final Harness.Sent error = harness.sent.get(0);
        assertEquals(PORT4, error.port());
        final ByteBuffer b = ByteBuffer.wrap(error.frame());
        assertEquals(HOST_A, b.getInt(14 + 16));
        assertEquals(HOST_A, b.getInt(14 + 20 + 8 + 12), "the quoted packet is what the host sent");
    }

    @Test
    void invalidSettingsNameTheFieldAndChangeNothing() throws Exception
    {
        final Harness harness = harness("");
        final NatConfig before = harness.dataplane.nat().config();
        for (final String[] bad : new String[][] {
            {"{\"inside\": [\"Port9\"]}", "inside: unknown port Port9"},
            {"{\"inside\": [\"Port4\"], \"outside\": \"Port4\"}", "outside: Port4 is also an inside port"},
            {"{\"inside\": [\"Port4\"], \"portRange\": \"9-3\"}", "portRange"},
            {"{\"inside\": [\"Port4\"], \"timeouts\": {\"udp\": 60}}", "udp: 60 s not in 120"},
            {"{\"inside\": [\"Port4\"], \"maxSessions\": 999999}", "maxSessions"},
            {"{\"inside\": [\"Port4\"], \"filtering\": \"full-cone\"}", "filtering"},
            {"{\"inside\": [\"Port4\"], \"addresses\": [\"10.3.0.1\"]}", "addresses: 10.3.0.1 is already"}})
        {
            final Exception ex = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () ->
                harness.dataplane.nat().configure(io.edgeplane.config.Json.bind(bad[0], NatConfig.class)));
            assertTrue(ex.getMessage().contains(bad[1]), ex.getMessage());
            assertEquals(before, harness.dataplane.nat().config());
        }
        assertNull(harness.dataplane.nat().config().outside());
    }

    @Test
    void aConfigFileWithBadNatSettingsIsRefusedWithThePath()
    {
        final Exception ex = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () ->
            ConfigLoader.parse(String.format(CONFIG, ", \"outside\": \"Nope\"")));
        assertTrue(ex.getMessage().startsWith("nat.outside: unknown port Nope"), ex.getMessage());
    }
}
