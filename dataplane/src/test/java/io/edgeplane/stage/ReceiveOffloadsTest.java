package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.util.List;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frames as a Linux peer with default offloads hands them over: a partial TCP/UDP checksum (only the pseudo-header
 * sum filled in, as CHECKSUM_PARTIAL leaves it) and 64 KiB TCP super-frames (TSO). What leaves the gateway is judged
 * by pcap4j: valid checksums, and the segments carry exactly the original byte stream.
 */
class ReceiveOffloadsTest
{
    private static final int CLIENT = ip("10.1.0.10");
    private static final int SERVER = ip("10.2.0.20");
    private static final int MTU = 1500;

    /** What CHECKSUM_PARTIAL leaves in the checksum field: the folded pseudo-header sum, not complemented. */
    private static byte[] partial(final byte[] frame, final int checksumAt, final int protocol)
    {
        final int l4Length = frame.length - 14 - 20;
        final long pseudo = (CLIENT >>> 16) + (CLIENT & 0xFFFF) + (SERVER >>> 16) + (SERVER & 0xFFFF) + protocol +
            l4Length;
        long sum = pseudo;
        while (sum >>> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        frame[checksumAt] = (byte)(sum >>> 8);
        frame[checksumAt + 1] = (byte)sum;
        return frame;
    }

    private static byte[] tcpSuperFrame(final int payload, final int flags)
    {
        final byte[] data = Frames.payload(payload, 7);
        final byte[] l4 = Frames.tcp(CLIENT, SERVER, 40000, 80, flags, data);
        final byte[] ip = Frames.ipv4(CLIENT, SERVER, 6, 64, 0x4000, l4);
        return partial(Frames.ethernet(Harness.PORT1_MAC, Harness.CLIENT_MAC, Frames.ETH_IPV4, ip), 14 + 20 + 16,
            6);
    }

    private static int receive(final Harness harness, final byte[] frame, final boolean partial)
    {
        final ReceiveOffloads offloads = new ReceiveOffloads(harness.dataplane);
        final int used = offloads.receive(0, new UnsafeBuffer(frame), 0, frame.length, partial, MTU, 1, 1000);
        harness.flush();
        return used;
    }

    @Test
    void shouldSegmentATcpSuperFrameIntoValidSegmentsCarryingTheSameBytes() throws Exception
    {
        final Harness harness = new Harness();
        final int payload = 65_000;
        final byte[] superFrame = tcpSuperFrame(payload, 0x18 | 0x80 | 0x01); // PSH ACK CWR FIN
        final int used = receive(harness, superFrame, true);
        final int mss = MTU - 40;
        assertEquals((payload + mss - 1) / mss, used);
        assertEquals(used, harness.sent.size());
        final ByteArrayOutputStream stream = new ByteArrayOutputStream();
        final InetAddress client = InetAddress.getByName("10.1.0.10");
        final InetAddress server = InetAddress.getByName("10.2.0.20");
        for (int i = 0; i < harness.sent.size(); i++)
        {
            final Harness.Sent sent = harness.sent.get(i);
            assertEquals(1, sent.port());
            final EthernetPacket frame = EthernetPacket.newPacket(sent.frame(), 0, sent.frame().length);
            final IpV4Packet ipPacket = frame.get(IpV4Packet.class);
            final TcpPacket tcp = frame.get(TcpPacket.class);
            assertTrue(ipPacket.getHeader().hasValidChecksum(false), "IP checksum of segment " + i);
            assertTrue(tcp.hasValidChecksum(client, server, false), "TCP checksum of segment " + i);
            assertTrue(ipPacket.getHeader().getTotalLengthAsInt() <= MTU, "segment " + i + " fits the MTU");
            assertEquals(0x1234 + i, ipPacket.getHeader().getIdentificationAsInt(), "IP id of segment " + i);
            assertEquals(1000 + stream.size(), tcp.getHeader().getSequenceNumber(), "sequence of segment " + i);
            final boolean last = i == harness.sent.size() - 1;
            assertEquals(i == 0, (sent.frame()[14 + 20 + 13] & 0x80) != 0, "CWR only on the first");
            assertEquals(last, tcp.getHeader().getFin(), "FIN only on the last");
            assertEquals(last, tcp.getHeader().getPsh(), "PSH only on the last");
            assertTrue(tcp.getHeader().getAck());
            stream.write(tcp.getPayload().getRawData());
        }
        assertArrayEquals(Frames.payload(payload, 7), stream.toByteArray(), "the byte stream is unchanged");
        assertEquals(1L, harness.snapshot().events.get("rx-gso-frames"));
    }

    @Test
    void shouldCompletePartialChecksumsOfSmallFrames() throws Exception
    {
        final Harness harness = new Harness();
        final byte[] tcp = tcpSuperFrame(100, 0x10);
        final byte[] udp = partial(Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC, CLIENT, SERVER, 64,
            5000, 53, 40), 14 + 20 + 6, 17);
        receive(harness, tcp, true);
        receive(harness, udp, true);
        final InetAddress client = InetAddress.getByName("10.1.0.10");
        final InetAddress server = InetAddress.getByName("10.2.0.20");
        final List<Harness.Sent> sent = harness.sent;
        assertEquals(2, sent.size());
        assertTrue(EthernetPacket.newPacket(sent.get(0).frame(), 0, sent.get(0).frame().length).get(TcpPacket.class)
            .hasValidChecksum(client, server, false));
        assertTrue(EthernetPacket.newPacket(sent.get(1).frame(), 0, sent.get(1).frame().length).get(UdpPacket.class)
            .hasValidChecksum(client, server, false));
        assertEquals(2L, harness.snapshot().events.get("rx-checksum-completed"));
    }

    @Test
    void shouldLeaveCompleteFramesAloneAndDropUdpSuperFrames() throws Exception
    {
        final Harness harness = new Harness();
        final byte[] plain = Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC, CLIENT, SERVER, 64, 5000, 53,
            40);
        receive(harness, plain, false);
        assertEquals(1, harness.sent.size());
        final byte[] forwarded = harness.sent.get(0).frame();
        assertEquals(plain[14 + 20 + 6], forwarded[14 + 20 + 6], "checksum untouched");
        final byte[] udpSuper = Frames.ethernet(Harness.PORT1_MAC, Harness.CLIENT_MAC, Frames.ETH_IPV4,
            Frames.ipv4(CLIENT, SERVER, 17, 64, 0, Frames.udp(CLIENT, SERVER, 1, 2, new byte[8000])));
        receive(harness, udpSuper, true);
        assertEquals(1, harness.snapshot().drop(DropReason.RX_OVERSIZE));
        assertFalse(harness.snapshot().events.containsKey("rx-gso-frames"));
    }
}
