package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.UdpPacket;
import org.pcap4j.packet.namednumber.ArpOperation;
import org.pcap4j.packet.namednumber.IcmpV4Type;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VXLAN (RFC 7348) through the pipeline: encapsulation of routed traffic for a remote node's pod subnet, and
 * decapsulation of what the node sends, outputs decoded by pcap4j (outer Ethernet, IPv4 and UDP; the VXLAN header by
 * its RFC layout; the inner frame again by pcap4j).
 */
class VxlanTest
{
    static final String CONFIG = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.244.1.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" },
            { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
              "ipv4": "192.168.42.1/24" }
          ],
          "neighbors": [
            { "interface": "Port1", "ip": "10.244.1.5", "mac": "02:00:00:00:01:05" },
            { "interface": "Port3", "ip": "10.3.0.2", "mac": "02:00:00:00:03:02" },
            { "interface": "vxlan0", "ip": "192.168.42.2", "mac": "02:00:00:00:42:02", "vtep": "10.3.0.2" }
          ],
          "routes": [ { "interface": "vxlan0", "prefix": "10.244.2.0/24", "nextHop": "192.168.42.2" } ]
        }
        """;
    private static final long PORT1_MAC = 0x0200_0000_0101L;
    private static final long POD_MAC = 0x0200_0000_0105L;
    private static final long PORT3_MAC = 0x0200_0000_0301L;
    private static final long NODE2_MAC = 0x0200_0000_0302L;
    private static final long TUNNEL_MAC = 0x0200_0000_4201L;
    private static final long REMOTE_VTEP_MAC = 0x0200_0000_4202L;

    private static byte[] fromLocalPod(final int sourcePort, final int payload, final boolean df)
    {
        final byte[] l4 = Frames.udp(ip("10.244.1.5"), ip("10.244.2.7"), sourcePort, 7000, new byte[payload]);
        return Frames.ethernet(PORT1_MAC, POD_MAC, Frames.ETH_IPV4,
            Frames.ipv4(ip("10.244.1.5"), ip("10.244.2.7"), 17, 64, df ? 0x4000 : 0, l4));
    }

    /** A VXLAN packet from node2 (10.3.0.2) carrying {@code inner}, with the given flags byte and VNI. */
    static byte[] fromNode2(final byte[] inner, final int flags, final int vni)
    {
        return Frames.vxlanFrame(PORT3_MAC, NODE2_MAC, ip("10.3.0.2"), ip("10.3.0.1"), flags, vni, inner);
    }

    private static byte[] innerFromRemotePod()
    {
        final byte[] l4 = Frames.udp(ip("10.244.2.7"), ip("10.244.1.5"), 7000, 40000, new byte[20]);
        return Frames.ethernet(TUNNEL_MAC, REMOTE_VTEP_MAC, Frames.ETH_IPV4,
            Frames.ipv4(ip("10.244.2.7"), ip("10.244.1.5"), 17, 64, 0, l4));
    }

    @Test
    void shouldEncapsulateRoutedTrafficForARemotePodSubnet() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long id = harness.receive(0, fromLocalPod(40000, 30, true));
        final long sameFlow = harness.receive(0, fromLocalPod(40000, 30, true));
        final long otherFlow = harness.receive(0, fromLocalPod(40123, 30, true));
        harness.flush();
        final Harness.Sent sent = harness.sentFor(id);
        assertNotNull(sent, String.valueOf(harness.dropFor(id)));
        assertEquals(1, sent.port(), "out of the underlay port");
        final EthernetPacket outer = EthernetPacket.newPacket(sent.frame(), 0, sent.frame().length);
        assertEquals("02:00:00:00:03:02", outer.getHeader().getDstAddr().toString());
        assertEquals("02:00:00:00:03:01", outer.getHeader().getSrcAddr().toString());
        final IpV4Packet.IpV4Header outerIp = outer.get(IpV4Packet.class).getHeader();
        assertEquals("10.3.0.1", outerIp.getSrcAddr().getHostAddress());
        assertEquals("10.3.0.2", outerIp.getDstAddr().getHostAddress());
        assertEquals(64, outerIp.getTtlAsInt());
        assertTrue(outerIp.getDontFragmentFlag(), "df set (the port's default)");
        assertTrue(outerIp.hasValidChecksum(false));
        final UdpPacket udp = outer.get(UdpPacket.class);
        assertEquals(4789, udp.getHeader().getDstPort().valueAsInt());
        final int sourcePort = udp.getHeader().getSrcPort().valueAsInt();
        assertTrue(sourcePort >= 49152 && sourcePort <= 65535, "source port " + sourcePort);
        assertEquals(0, udp.getHeader().getChecksum(), "UDP checksum 0 (RFC 7348)");
        final byte[] payload = udp.getPayload().getRawData();
        assertEquals(0x08, payload[0] & 0xFF, "I flag, reserved bits zero");
        assertEquals(42, ByteBuffer.wrap(payload, 4, 4).getInt() >>> 8, "VNI");
        final EthernetPacket inner = EthernetPacket.newPacket(payload, 8, payload.length - 8);
        assertEquals("02:00:00:00:42:02", inner.getHeader().getDstAddr().toString());
        assertEquals("02:00:00:00:42:01", inner.getHeader().getSrcAddr().toString());
        final IpV4Packet.IpV4Header innerIp = inner.get(IpV4Packet.class).getHeader();
        assertEquals(63, innerIp.getTtlAsInt(), "the inner packet was routed");
        assertTrue(innerIp.hasValidChecksum(false));
        assertEquals(50 + 14 + 20 + 8 + 30, sent.frame().length, "50 bytes of overhead on a 64-byte inner frame");
        final byte[] again = harness.sentFor(sameFlow).frame();
        final byte[] other = harness.sentFor(otherFlow).frame();
        assertEquals(sourcePort, ((again[14 + 20] & 0xFF) << 8) | (again[14 + 21] & 0xFF), "a flow keeps its port");
        assertNotEquals(sourcePort, ((other[14 + 20] & 0xFF) << 8) | (other[14 + 21] & 0xFF),
            "another flow (most likely) another port");
    }

    @Test
    void shouldDecapsulateIntoTheTunnelPortAndRouteToTheLocalPod() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long id = harness.receive(1, fromNode2(innerFromRemotePod(), 0x08, 42));
        harness.flush();
        final Harness.Sent sent = harness.sentFor(id);
        assertNotNull(sent, String.valueOf(harness.dropFor(id)));
        assertEquals(0, sent.port());
        final EthernetPacket frame = EthernetPacket.newPacket(sent.frame(), 0, sent.frame().length);
        assertEquals("02:00:00:00:01:05", frame.getHeader().getDstAddr().toString());
        final IpV4Packet.IpV4Header ipHeader = frame.get(IpV4Packet.class).getHeader();
        assertEquals("10.244.2.7", ipHeader.getSrcAddr().getHostAddress());
        assertEquals(63, ipHeader.getTtlAsInt());
        assertTrue(frame.get(UdpPacket.class).hasValidChecksum(InetAddress.getByName("10.244.2.7"),
            InetAddress.getByName("10.244.1.5"), false));
        assertEquals(1L, harness.snapshot().stages.get("vxlan-decap"));
    }

    @Test
    void shouldDropMalformedVxlanUnderNamedReasons() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long badFlags = harness.receive(1, fromNode2(innerFromRemotePod(), 0x00, 42));
        final long unknownVni = harness.receive(1, fromNode2(innerFromRemotePod(), 0x08, 43));
        final long truncated = harness.receive(1, fromNode2(Arrays.copyOf(innerFromRemotePod(), 10), 0x08, 42));
        final long garbage = harness.receive(1, fromNode2(Frames.ethernet(TUNNEL_MAC, REMOTE_VTEP_MAC, 0x88B5,
            new byte[46]), 0x08, 42));
        harness.flush();
        assertEquals(DropReason.VXLAN_BAD_FLAGS, harness.dropFor(badFlags));
        assertEquals(DropReason.VXLAN_NO_SUCH_TUNNEL, harness.dropFor(unknownVni));
        assertEquals(DropReason.VXLAN_TRUNCATED, harness.dropFor(truncated));
        assertEquals(DropReason.ETH_UNKNOWN_TYPE, harness.dropFor(garbage));
    }

    @Test
    void shouldAnswerFragmentationNeededWithTheTunnelMtu() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long id = harness.receive(0, fromLocalPod(40000, 1500 - 28, true));
        harness.flush();
        assertEquals(DropReason.IP4_DF_TOO_BIG, harness.dropFor(id));
        final Harness.Sent icmp = harness.sentFor(id);
        assertNotNull(icmp);
        final IcmpV4CommonPacket.IcmpV4CommonHeader header = EthernetPacket.newPacket(icmp.frame(), 0,
            icmp.frame().length).get(IcmpV4CommonPacket.class).getHeader();
        assertEquals(IcmpV4Type.DESTINATION_UNREACHABLE, header.getType());
        assertEquals(4, header.getCode().value().intValue(), "fragmentation needed");
        assertEquals(1450, ((icmp.frame()[14 + 20 + 6] & 0xFF) << 8) | (icmp.frame()[14 + 20 + 7] & 0xFF));
    }

    @Test
    void shouldAnswerArpThroughTheTunnelAndLearnTheSendersVtep() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long newcomer = 0x0200_0000_4209L;
        final byte[] request = Frames.ethernet(0xFFFF_FFFF_FFFFL, newcomer, 0x0806,
            Frames.arp(1, newcomer, ip("192.168.42.9"), 0, ip("192.168.42.1")));
        final long id = harness.receive(1, fromNode2(request, 0x08, 42));
        harness.flush();
        final Harness.Sent reply = harness.sentFor(id);
        assertNotNull(reply, String.valueOf(harness.dropFor(id)));
        assertEquals(1, reply.port());
        final UdpPacket udp = EthernetPacket.newPacket(reply.frame(), 0, reply.frame().length).get(UdpPacket.class);
        final byte[] vxlan = udp.getPayload().getRawData();
        final ArpPacket.ArpHeader arp = EthernetPacket.newPacket(vxlan, 8, vxlan.length - 8).get(ArpPacket.class)
            .getHeader();
        assertEquals(ArpOperation.REPLY, arp.getOperation());
        assertEquals("192.168.42.1", arp.getSrcProtocolAddr().getHostAddress());
        assertEquals("02:00:00:00:42:01", arp.getSrcHardwareAddr().toString());
        assertEquals(ip("10.3.0.2"), harness.dataplane.neighbors().vtep(2, ip("192.168.42.9")), "VTEP learned");
    }
}
