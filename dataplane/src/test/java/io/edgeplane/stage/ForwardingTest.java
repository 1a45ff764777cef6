package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.Dot1qVlanTagPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.UdpPacket;
import org.pcap4j.packet.namednumber.ArpOperation;
import org.pcap4j.packet.namednumber.IcmpV4Type;
import org.pcap4j.util.MacAddress;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static io.edgeplane.testing.Frames.ip;
import static io.edgeplane.testing.Harness.CLIENT_MAC;
import static io.edgeplane.testing.Harness.PORT1_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Forwarding decisions end to end through the pipeline, outputs decoded by pcap4j. */
class ForwardingTest
{
    private static final String ROUTED = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" }
          ],
          "routes": [
            { "interface": "Port2", "prefix": "192.168.20.0/24", "nextHop": "10.2.0.254", "metric": 100 },
            { "interface": "Port3", "prefix": "192.168.20.0/24", "nextHop": "10.3.0.254", "metric": 200 },
            { "interface": "Port2", "prefix": "172.20.0.0/16", "nextHop": "10.2.0.254", "metric": 100 },
            { "interface": "Port3", "prefix": "172.20.0.0/16", "nextHop": "10.3.0.254", "metric": 100 }
          ],
          "neighbors": [
            { "interface": "Port1", "ip": "10.1.0.10", "mac": "02:00:00:00:01:10" },
            { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" },
            { "interface": "Port3", "ip": "10.3.0.254", "mac": "02:00:00:00:03:fe" }
          ]
        }
        """;
    private static final int CLIENT = ip("10.1.0.10");

    private static EthernetPacket decode(final byte[] frame) throws Exception
    {
        return EthernetPacket.newPacket(frame, 0, frame.length);
    }

    @Test
    void shouldSpreadFlowsOverEqualMetricsAndKeepEachFlowOnOnePort() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        final Map<Integer, Integer> portOfFlow = new HashMap<>();
        final int[] perPort = new int[3];
        for (int round = 0; round < 3; round++)
        {
            for (int flow = 0; flow < 1000; flow++)
            {
                final long id = harness.receive(0, Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT,
                    ip("172.20.0.0") + flow * 7, 64, 20000 + flow, 443, 16));
                harness.flush();
                final Harness.Sent sent = harness.sentFor(id);
                assertNotNull(sent);
                final Integer previous = portOfFlow.putIfAbsent(flow, sent.port());
                if (previous != null)
                {
                    assertEquals(previous.intValue(), sent.port(), "flow " + flow + " moved");
                }
                if (round == 0)
                {
                    perPort[sent.port()]++;
                }
                final EthernetPacket packet = decode(sent.frame());
                final MacAddress expected = MacAddress.getByName(sent.port() == 1 ? "02:00:00:00:02:fe" :
                    "02:00:00:00:03:fe");
                assertEquals(expected, packet.getHeader().getDstAddr());
            }
        }
        assertEquals(0, perPort[0]);
        assertTrue(perPort[1] > 400 && perPort[2] > 400, "spread " + perPort[1] + "/" + perPort[2]);
    }

    /**
     * ip4-rewrite keeps the last next hop's header for the rest of a vector: whole vectors of packets whose next hops
     * change from one packet to the next (two on one port, one behind a VLAN, one unresolved) must each get the
     * header of their own next hop, as routing them one at a time would.
     */
    @Test
    void aVectorOfMixedNextHopsGivesEachPacketItsOwnNextHopsHeader() throws Exception
    {
        final Harness harness = new Harness("""
            {
              "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
                { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
                { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24", "vlan": 30 }
              ],
              "routes": [
                { "interface": "Port2", "prefix": "192.168.1.0/24", "nextHop": "10.2.0.253", "metric": 100 },
                { "interface": "Port2", "prefix": "192.168.2.0/24", "nextHop": "10.2.0.254", "metric": 100 },
                { "interface": "Port3", "prefix": "192.168.3.0/24", "nextHop": "10.3.0.254", "metric": 100 },
                { "interface": "Port2", "prefix": "192.168.4.0/24", "nextHop": "10.2.0.99", "metric": 100 }
              ],
              "neighbors": [
                { "interface": "Port1", "ip": "10.1.0.10", "mac": "02:00:00:00:01:10" },
                { "interface": "Port2", "ip": "10.2.0.253", "mac": "02:00:00:00:02:fd" },
                { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" },
                { "interface": "Port3", "ip": "10.3.0.254", "mac": "02:00:00:00:03:fe" }
              ]
            }
            """);
        final String[] nextHopMac = {"02:00:00:00:02:fd", "02:00:00:00:02:fe", "02:00:00:00:03:fe", null};
        final String[] portMac = {"02:00:00:00:02:01", "02:00:00:00:02:01", "02:00:00:00:03:01", null};
        final int[] port = {1, 1, 2, -1};
        final Random random = new Random(7);
        final int[] seen = new int[4];
        for (int vector = 0; vector < 10; vector++)
        {
            final long[] ids = new long[200];
            final int[] kinds = new int[ids.length];
            for (int i = 0; i < ids.length; i++)
            {
                // Runs of one next hop (the cache's case) broken up at random (its misses).
                kinds[i] = i > 0 && random.nextInt(3) > 0 ? kinds[i - 1] : random.nextInt(4);
                ids[i] = harness.receive(0, Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT,
                    ip("192.168." + (kinds[i] + 1) + ".7"), 64, 1024 + i, 53, 8));
            }
            harness.flush();
            for (int i = 0; i < ids.length; i++)
            {
                final int k = kinds[i];
                seen[k]++;
                final Harness.Sent sent = harness.sentFor(ids[i]);
                if (nextHopMac[k] == null)
                {
                    // Dropped; what may go out under its id is the ARP request it triggered, never the packet.
                    assertTrue(sent == null || decode(sent.frame()).get(ArpPacket.class) != null);
                    assertEquals(DropReason.NEIGHBOR_UNRESOLVED, harness.dropFor(ids[i]));
                    continue;
                }
                assertNotNull(sent, "packet " + i + " of vector " + vector);
                assertEquals(port[k], sent.port());
                final EthernetPacket packet = decode(sent.frame());
                assertEquals(MacAddress.getByName(nextHopMac[k]), packet.getHeader().getDstAddr(), "packet " + i);
                assertEquals(MacAddress.getByName(portMac[k]), packet.getHeader().getSrcAddr(), "packet " + i);
                final Dot1qVlanTagPacket tag = packet.get(Dot1qVlanTagPacket.class);
                assertEquals(k == 2 ? Integer.valueOf(30) : null, tag == null ? null : tag.getHeader().getVidAsInt());
                final IpV4Packet ipPacket = packet.get(IpV4Packet.class);
                assertEquals(63, ipPacket.getHeader().getTtlAsInt());
                assertTrue(ipPacket.getHeader().hasValidChecksum(false));
                assertEquals(ip("192.168." + (k + 1) + ".7"), ip(ipPacket.getHeader().getDstAddr().getHostAddress()));
            }
            harness.sent.clear();
            harness.dropped.clear();
        }
        for (int k = 0; k < 4; k++)
        {
            assertTrue(seen[k] > 100, "next hop " + k + " seen " + seen[k] + " times");
        }
    }

    @Test
    void shouldRewriteTtlMacsAndChecksumsLikeARouter() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        final long id = harness.receive(0, Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("192.168.20.7"), 17,
            5000, 6000, 300));
        harness.flush();
        final Harness.Sent sent = harness.sentFor(id);
        assertEquals(1, sent.port(), "metric 100 via Port2");
        final EthernetPacket packet = decode(sent.frame());
        assertEquals(MacAddress.getByName("02:00:00:00:02:01"), packet.getHeader().getSrcAddr());
        assertEquals(MacAddress.getByName("02:00:00:00:02:fe"), packet.getHeader().getDstAddr());
        final IpV4Packet ipPacket = packet.get(IpV4Packet.class);
        assertEquals(16, ipPacket.getHeader().getTtlAsInt());
        assertTrue(ipPacket.getHeader().hasValidChecksum(false));
        assertTrue(packet.get(UdpPacket.class).hasValidChecksum(ipPacket.getHeader().getSrcAddr(),
            ipPacket.getHeader().getDstAddr(), false));
    }

    private static int sentPort(final Harness harness, final long id, final String what)
    {
        final Harness.Sent sent = harness.sentFor(id);
        assertNotNull(sent, what + " was not sent but dropped: " + harness.dropFor(id));
        return sent.port();
    }

    @Test
    void shouldJudgeEveryPacketOfAMixedVectorByItsOwnPortsState() throws Exception
    {
        // ethernet-input and ip4-rewrite read a port's state once per run of packets to or from it: in a vector
        // that alternates between ports, each packet must still meet its own port's MAC, MTU and admin state.
        final Harness harness = new Harness();
        final long port2Mac = 0x02_00_00_00_02_01L;
        final long hostMac = 0x02_00_00_00_02_20L;
        final int host2 = ip("10.2.0.20");
        final int host3 = ip("10.3.0.30");
        // 1,450-byte datagrams with DF: within Port2's MTU (1500), over Port3's (1400).
        final byte[] big2 = Frames.ethernet(PORT1_MAC, CLIENT_MAC, Frames.ETH_IPV4, Frames.ipv4(CLIENT, host2, 17, 64,
            0x4000, Frames.udp(CLIENT, host2, 1, 2, new byte[1422])));
        final byte[] big3 = Frames.ethernet(PORT1_MAC, CLIENT_MAC, Frames.ETH_IPV4, Frames.ipv4(CLIENT, host3, 17, 64,
            0x4000, Frames.udp(CLIENT, host3, 1, 2, new byte[1422])));
        final byte[] small3 = Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, host3, 64, 1, 2, 20);
        final byte[] fromPort2 = Frames.udpFrame(port2Mac, hostMac, host2, CLIENT, 64, 3, 4, 20);
        // Port1's MAC on Port2's wire: not for Port2.
        final byte[] wrongMacOnPort2 = Frames.udpFrame(PORT1_MAC, hostMac, host2, CLIENT, 64, 3, 4, 20);
        final java.util.List<long[]> sent = new java.util.ArrayList<>();
        for (int phase = 0; phase < 2; phase++)
        {
            if (phase == 1)
            {
                harness.dataplane.ports().adminUp(2, false);
            }
            for (int i = 0; i < 40; i++)
            {
                sent.add(new long[] {phase, 0, harness.receive(0, big2)});
                sent.add(new long[] {phase, 1, harness.receive(0, big3)});
                sent.add(new long[] {phase, 2, harness.receive(1, fromPort2)});
                sent.add(new long[] {phase, 3, harness.receive(1, wrongMacOnPort2)});
                sent.add(new long[] {phase, 4, harness.receive(0, small3)});
                sent.add(new long[] {phase, 5, harness.receive(2, Frames.udpFrame(0x02_00_00_00_03_01L,
                    0x02_00_00_00_03_30L, host3, CLIENT, 64, 5, 6, 20))});
            }
            harness.flush();
        }
        for (final long[] packet : sent)
        {
            final boolean port3Down = packet[0] == 1;
            final long id = packet[2];
            final String what = "phase " + packet[0] + " kind " + packet[1];
            switch ((int)packet[1])
            {
                case 0 -> assertEquals(1, sentPort(harness, id, what), what);
                case 1 -> assertEquals(port3Down ? DropReason.PORT_DOWN : DropReason.IP4_DF_TOO_BIG,
                    harness.dropFor(id), what);
                case 2 -> assertEquals(0, sentPort(harness, id, what), what);
                case 3 -> assertEquals(DropReason.ETH_NOT_FOR_US, harness.dropFor(id), what);
                case 4 ->
                {
                    if (port3Down)
                    {
                        assertEquals(DropReason.PORT_DOWN, harness.dropFor(id), what);
                    }
                    else
                    {
                        assertEquals(2, sentPort(harness, id, what), what);
                    }
                }
                default ->
                {
                    if (port3Down)
                    {
                        assertEquals(DropReason.PORT_DOWN, harness.dropFor(id), what);
                    }
                    else
                    {
                        assertEquals(0, sentPort(harness, id, what), what);
                    }
                }
            }
        }
    }

    @Test
    void shouldFailOverToTheNextMetricWhenThePortGoesDown() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        final Dataplane dataplane = harness.dataplane;
        final byte[] frame = Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("192.168.20.7"), 64, 5000, 6000, 30);
        long id = harness.receive(0, frame);
        harness.flush();
        assertEquals(1, harness.sentFor(id).port());
        dataplane.ports().adminUp(1, false);
        dataplane.routes().refreshPort(1);
        id = harness.receive(0, frame);
        harness.flush();
        assertEquals(2, harness.sentFor(id).port(), "metric 200 via Port3 takes over");
        dataplane.ports().adminUp(1, true);
        dataplane.routes().refreshPort(1);
        id = harness.receive(0, frame);
        harness.flush();
        assertEquals(1, harness.sentFor(id).port(), "back to Port2");
    }

    @Test
    void shouldAnswerArpLearnTheSenderAndResolveUnknownNextHops() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        final long newHostMac = 0x02_00_00_00_02_33L;
        final int newHost = ip("10.2.0.33");
        // Traffic to an unknown host: dropped, ARP request out of Port2.
        final long first = harness.receive(0, Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, newHost, 64, 1, 2, 8));
        harness.flush();
        assertEquals(DropReason.NEIGHBOR_UNRESOLVED, harness.dropFor(first));
        final Harness.Sent request = harness.sentFor(first);
        assertEquals(1, request.port());
        final ArpPacket arp = decode(request.frame()).get(ArpPacket.class);
        assertEquals(ArpOperation.REQUEST, arp.getHeader().getOperation());
        assertEquals(MacAddress.ETHER_BROADCAST_ADDRESS, decode(request.frame()).getHeader().getDstAddr());
        assertEquals("/10.2.0.33", arp.getHeader().getDstProtocolAddr().toString());
        assertEquals("/10.2.0.1", arp.getHeader().getSrcProtocolAddr().toString());
        // The host answers: learned, consumed (not a drop in drops.pcap terms).
        final long reply = harness.receive(1, Frames.ethernet(0x02_00_00_00_02_01L, newHostMac, Frames.ETH_ARP,
            Frames.arp(2, newHostMac, newHost, 0x02_00_00_00_02_01L, ip("10.2.0.1"))));
        harness.flush();
        assertEquals(DropReason.ARP_REPLY_CONSUMED, harness.dropFor(reply));
        // Now forwarded with the learned MAC.
        final long second = harness.receive(0, Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, newHost, 64, 1, 2, 8));
        harness.flush();
        final Harness.Sent sent = harness.sentFor(second);
        assertEquals(1, sent.port());
        assertEquals(MacAddress.getByName("02:00:00:00:02:33"), decode(sent.frame()).getHeader().getDstAddr());
        // A request for the gateway's own address is answered in place.
        final long who = harness.receive(1, Frames.ethernet(-1L & 0xFFFF_FFFF_FFFFL, newHostMac, Frames.ETH_ARP,
            Frames.arp(1, newHostMac, newHost, 0, ip("10.2.0.1"))));
        harness.flush();
        final ArpPacket answer = decode(harness.sentFor(who).frame()).get(ArpPacket.class);
        assertEquals(ArpOperation.REPLY, answer.getHeader().getOperation());
        assertEquals(MacAddress.getByName("02:00:00:00:02:01"), answer.getHeader().getSrcHardwareAddr());
        assertEquals(MacAddress.getByName("02:00:00:00:02:33"), answer.getHeader().getDstHardwareAddr());
    }

    @Test
    void shouldAnswerPingToEveryGatewayAddressWithAValidReply() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        for (final String gateway : new String[] {"10.1.0.1", "10.2.0.1"})
        {
            final long id = harness.receive(0, Frames.pingFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip(gateway), 1, 9, 3));
            harness.flush();
            final Harness.Sent sent = harness.sentFor(id);
            assertEquals(0, sent.port());
            final EthernetPacket reply = decode(sent.frame());
            final IpV4Packet ipPacket = reply.get(IpV4Packet.class);
            assertEquals("/" + gateway, ipPacket.getHeader().getSrcAddr().toString());
            assertEquals("/10.1.0.10", ipPacket.getHeader().getDstAddr().toString());
            assertTrue(ipPacket.getHeader().hasValidChecksum(false));
            final IcmpV4CommonPacket icmp = reply.get(IcmpV4CommonPacket.class);
            assertEquals(IcmpV4Type.ECHO_REPLY, icmp.getHeader().getType());
            assertTrue(icmp.hasValidChecksum(false));
        }
    }

    @Test
    void shouldSendValidIcmpErrorsAndNeverAnErrorAboutAnError() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        final long noRoute = harness.receive(0, Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("8.8.8.8"), 64, 1,
            2, 8));
        harness.flush();
        final EthernetPacket error = decode(harness.sentFor(noRoute).frame());
        final IcmpV4CommonPacket icmp = error.get(IcmpV4CommonPacket.class);
        assertEquals(IcmpV4Type.DESTINATION_UNREACHABLE, icmp.getHeader().getType());
        assertEquals(0, icmp.getHeader().getCode().value().intValue());
        assertTrue(icmp.hasValidChecksum(false));
        assertTrue(error.get(IpV4Packet.class).getHeader().hasValidChecksum(false));
        assertEquals(DropReason.IP4_NO_ROUTE, harness.dropFor(noRoute));

        // Feed the ICMP error back in as if it were addressed elsewhere: no error about an error.
        final byte[] errorAsTraffic = harness.sentFor(noRoute).frame().clone();
        final byte[] rewritten = Frames.ethernet(PORT1_MAC, CLIENT_MAC, Frames.ETH_IPV4, Frames.ipv4(CLIENT,
            ip("8.8.4.4"), 1, 64, 0, java.util.Arrays.copyOfRange(errorAsTraffic, 14 + 20, errorAsTraffic.length)));
        final long about = harness.receive(0, rewritten);
        harness.flush();
        assertNull(harness.sentFor(about));
        assertEquals(DropReason.IP4_NO_ROUTE, harness.dropFor(about));
        assertEquals(1, harness.snapshot().drop(DropReason.ICMP_ERROR_SUPPRESSED));
    }

    @Test
    void shouldRateLimitEchoRepliesSeparately() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        final int requests = Dataplane.ECHO_REPLY_BURST + 200;
        for (int i = 0; i < requests; i++)
        {
            final byte[] frame = Frames.pingFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.1.0.1"), 64, 1, i);
            harness.dataplane.receive(0, new org.agrona.concurrent.UnsafeBuffer(frame), 0, frame.length, 1 + i, 5);
            if (i % 200 == 199)
            {
                harness.flush();
            }
        }
        harness.flush();
        assertEquals(Dataplane.ECHO_REPLY_BURST, harness.sent.size(), "replies within the burst");
        assertEquals(200, harness.snapshot().drop(DropReason.ICMP_ECHO_RATE_LIMITED));
        // A second later the bucket has refilled.
        final byte[] later = Frames.pingFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.1.0.1"), 64, 1, 9999);
        harness.dataplane.receive(0, new org.agrona.concurrent.UnsafeBuffer(later), 0, later.length, 99_999,
            1_000_000_005L);
        harness.flush();
        assertEquals(Dataplane.ECHO_REPLY_BURST + 1, harness.sent.size());
    }

    @Test
    void shouldRateLimitIcmpErrors() throws Exception
    {
        final Harness harness = new Harness(ROUTED);
        // All at the same timestamp: only the burst gets through.
        int errors = 0;
        for (int i = 0; i < 200; i++)
        {
            final byte[] frame = Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("8.8.8.8"), 64, i, 2, 8);
            harness.dataplane.receive(0, new org.agrona.concurrent.UnsafeBuffer(frame), 0, frame.length, 1000 + i, 5);
        }
        harness.flush();
        for (final Harness.Sent sent : harness.sent)
        {
            errors += sent.port() == 0 ? 1 : 0;
        }
        assertEquals(Dataplane.ICMP_ERROR_BURST, errors);
        assertEquals(200 - Dataplane.ICMP_ERROR_BURST,
            harness.snapshot().drop(DropReason.ICMP_RATE_LIMITED));
        assertEquals(200, harness.snapshot().drop(DropReason.IP4_NO_ROUTE));
    }
}
