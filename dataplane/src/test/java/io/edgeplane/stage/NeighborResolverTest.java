package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.namednumber.ArpOperation;
import org.pcap4j.util.MacAddress;

import java.util.List;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * ARP pacing and neighbor ageing on the worker's timer wheel, driven by packet time as in replay (and by
 * {@link Dataplane#tick} as in the live gateway). Requests and probes are decoded by pcap4j.
 */
class NeighborResolverTest
{
    private static final String CONFIG = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" }
          ],
          "neighbors": [ { "interface": "Port1", "ip": "10.1.0.10", "mac": "02:00:00:00:01:10" } ]
        }
        """;
    private static final long SECOND = 1_000_000_000L;
    private static final long PORT2_MAC = 0x0200_0000_0201L;
    private static final long HOST_MAC = 0x0200_0000_0220L;
    private static final int HOST = ip("10.2.0.20");

    private static byte[] toHost()
    {
        return Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC, ip("10.1.0.10"), HOST, 64, 1000, 2000, 8);
    }

    private static byte[] arpFromHost(final int op)
    {
        return Frames.ethernet(op == 1 ? -1L & 0xFFFF_FFFF_FFFFL : PORT2_MAC, HOST_MAC, 0x0806,
            Frames.arp(op, HOST_MAC, HOST, op == 1 ? 0 : PORT2_MAC, ip("10.2.0.1")));
    }

    /** ARP requests the gateway sent for the host, as (destination MAC) strings. */
    private static List<String> requestsForHost(final Harness harness) throws Exception
    {
        final java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (final Harness.Sent sent : harness.sent)
        {
            final EthernetPacket frame = EthernetPacket.newPacket(sent.frame(), 0, sent.frame().length);
            final ArpPacket arp = frame.get(ArpPacket.class);
            if (sent.port() == 1 && arp != null && arp.getHeader().getOperation().equals(ArpOperation.REQUEST) &&
                arp.getHeader().getDstProtocolAddr().getHostAddress().equals("10.2.0.20"))
            {
                out.add(frame.getHeader().getDstAddr().toString());
            }
        }
        return out;
    }

    @Test
    void shouldSendAtMostOneRequestPerNeighborPerSecondByPacketTime() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        for (final long t : new long[] {0, SECOND / 2, SECOND - 1, SECOND + SECOND / 5, 2 * SECOND})
        {
            final long id = harness.receiveAt(0, toHost(), 100 * SECOND + t);
            harness.flush();
            assertEquals(DropReason.NEIGHBOR_UNRESOLVED, harness.dropFor(id));
        }
        // at 0 and at 1.2 s; 2.0 s is within a second of 1.2 s.
        assertEquals(List.of("ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"), requestsForHost(harness));
    }

    @Test
    void shouldProbeALearnedNeighborAfterReachableTimeAndKeepItWhenConfirmed() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        harness.receiveAt(1, arpFromHost(1), 0);
        harness.flush();
        final long early = harness.receiveAt(0, toHost(), 29 * SECOND);
        harness.flush();
        assertNotNull(harness.sentFor(early));
        assertEquals(List.of(), requestsForHost(harness));

        // 31 s: the entry is probed by a unicast request, and still used meanwhile.
        final long stale = harness.receiveAt(0, toHost(), 31 * SECOND);
        harness.flush();
        assertNotNull(harness.sentFor(stale));
        assertEquals(List.of(MacAddress.getByName("02:00:00:00:02:20").toString()), requestsForHost(harness));

        // The host answers the probe: the entry stays past the probe timeout.
        harness.receiveAt(1, arpFromHost(2), 32 * SECOND);
        harness.flush();
        final long later = harness.receiveAt(0, toHost(), 40 * SECOND);
        harness.flush();
        assertNotNull(harness.sentFor(later));
        assertEquals(0L, harness.snapshot().events.getOrDefault("neighbor-expired", 0L));
    }

    @Test
    void shouldRemoveALearnedNeighborThatDoesNotAnswerItsProbe() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        harness.receiveAt(1, arpFromHost(1), 0);
        harness.flush();
        // No traffic at all: the live worker's clock alone drives the timers.
        harness.tick(31 * SECOND);
        assertEquals(1, requestsForHost(harness).size(), "probe sent from the duty cycle");
        harness.tick(35 * SECOND);
        assertEquals(1L, harness.snapshot().events.get("neighbor-expired"));
        final long after = harness.receiveAt(0, toHost(), 36 * SECOND);
        harness.flush();
        assertEquals(DropReason.NEIGHBOR_UNRESOLVED, harness.dropFor(after));
        assertEquals("ff:ff:ff:ff:ff:ff", requestsForHost(harness).get(1));
    }

    @Test
    void shouldRefuseNeighborsBeyondTheTableCapacityUnderAnArpFlood() throws Exception
    {
        final Harness harness = new Harness("""
            { "ports": [ { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.0.0.1/8" } ] }
            """);
        final int flood = Dataplane.NEIGHBOR_CAPACITY + 100;
        for (int i = 0; i < flood; i++)
        {
            final int sender = ip("10.1.0.0") + i;
            final long mac = 0x0200_0000_0000L | i;
            harness.receiveAt(0, Frames.ethernet(0xFFFF_FFFF_FFFFL, mac, 0x0806,
                Frames.arp(1, mac, sender, 0, ip("10.0.0.1"))), i * 1000L);
            if (i % 256 == 255)
            {
                harness.flush();
                harness.sent.clear();
            }
        }
        harness.flush();
        assertEquals(Dataplane.NEIGHBOR_CAPACITY, harness.dataplane.neighbors().size());
        assertEquals(100L, harness.snapshot().events.get("neighbor-table-full"));
    }

    @Test
    void shouldNeverAgeStaticNeighbors() throws Exception
    {
        final Harness harness = new Harness();
        final long id = harness.receiveAt(0, Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC,
            ip("10.1.0.10"), ip("10.2.0.20"), 64, 1, 2, 8), 3600 * SECOND);
        harness.flush();
        harness.tick(7200 * SECOND);
        final long later = harness.receiveAt(0, Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC,
            ip("10.1.0.10"), ip("10.2.0.20"), 64, 1, 2, 8), 7300 * SECOND);
        harness.flush();
        assertNotNull(harness.sentFor(id));
        assertNotNull(harness.sentFor(later));
    }
}
