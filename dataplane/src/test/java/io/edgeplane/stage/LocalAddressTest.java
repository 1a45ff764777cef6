package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.namednumber.ArpOperation;
import org.pcap4j.packet.namednumber.IcmpV4Type;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An address added to a port at run time (a NAT pool address, a VIP) is ours: ARP and ping answer for it. */
class LocalAddressTest
{
    private static final int VIP = ip("10.2.0.100");
    private static final long HOST_MAC = 0x0200_0000_0220L;

    private static byte[] arpRequestForVip()
    {
        return Frames.ethernet(0xFFFF_FFFF_FFFFL, HOST_MAC, 0x0806,
            Frames.arp(1, HOST_MAC, ip("10.2.0.20"), 0, VIP));
    }

    private static byte[] pingVip()
    {
        return Frames.pingFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC, ip("10.1.0.10"), VIP, 64, 7, 1);
    }

    @Test
    void shouldAnswerArpAndPingForAnExtraAddressOnlyWhileThePortHoldsIt() throws Exception
    {
        final Harness harness = new Harness();
        final long arpBefore = harness.receive(1, arpRequestForVip());
        final long pingBefore = harness.receive(0, pingVip());
        harness.flush();
        assertEquals(DropReason.ARP_NOT_FOR_US, harness.dropFor(arpBefore));
        assertEquals(1, harness.sentFor(pingBefore).port(), "before: just a host on Port2's subnet");

        assertTrue(harness.dataplane.routes().addAddress(1, VIP));
        final long arp = harness.receive(1, arpRequestForVip());
        final long ping = harness.receive(0, pingVip());
        harness.flush();
        final EthernetPacket reply = EthernetPacket.newPacket(harness.sentFor(arp).frame(), 0,
            harness.sentFor(arp).frame().length);
        final ArpPacket.ArpHeader arpReply = reply.get(ArpPacket.class).getHeader();
        assertEquals(ArpOperation.REPLY, arpReply.getOperation());
        assertEquals("10.2.0.100", arpReply.getSrcProtocolAddr().getHostAddress());
        assertEquals("02:00:00:00:02:01", arpReply.getSrcHardwareAddr().toString());
        final Harness.Sent echo = harness.sentFor(ping);
        assertNotNull(echo);
        assertEquals(0, echo.port());
        final EthernetPacket echoFrame = EthernetPacket.newPacket(echo.frame(), 0, echo.frame().length);
        assertEquals(IcmpV4Type.ECHO_REPLY, echoFrame.get(IcmpV4CommonPacket.class).getHeader().getType());
        assertEquals("10.2.0.100", echoFrame.get(IpV4Packet.class).getHeader().getSrcAddr().getHostAddress());

        assertTrue(harness.dataplane.routes().removeAddress(1, VIP));
        final long arpAfter = harness.receive(1, arpRequestForVip());
        harness.flush();
        assertEquals(DropReason.ARP_NOT_FOR_US, harness.dropFor(arpAfter));
    }
}
