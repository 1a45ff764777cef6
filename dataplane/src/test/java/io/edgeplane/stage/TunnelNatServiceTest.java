package io.edgeplane.stage;

import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * NAT and services through the VXLAN overlay (issue 13 asks for both once they landed): a service whose backend is a
 * pod on another node, reached by encapsulation, with the reply coming back decapsulated and translated; and a pod
 * on another node using the internal-switch NAT to reach the outside, the reply translated and encapsulated back.
 * Every frame's IPv4 and L4 checksums are recomputed from scratch, the inner ones too.
 */
class TunnelNatServiceTest
{
    static final String CONFIG = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.244.1.1/24" },
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" },
            { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
              "ipv4": "192.168.42.1/24" }
          ],
          "neighbors": [
            { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" },
            { "interface": "Port3", "ip": "10.3.0.2", "mac": "02:00:00:00:03:02" },
            { "interface": "vxlan0", "ip": "192.168.42.2", "mac": "02:00:00:00:42:02", "vtep": "10.3.0.2" }
          ],
          "routes": [
            { "interface": "vxlan0", "prefix": "10.244.2.0/24", "nextHop": "192.168.42.2" },
            { "interface": "Port2", "prefix": "0.0.0.0/0", "nextHop": "10.2.0.254" }
          ],
          "nat": { "inside": ["Port1", "vxlan0"], "maxSessions": 4096 },
          "serviceNetwork": { "externalServiceIPs": "10.2.0.100-10.2.0.110" },
          "services": [ { "name": "web", "type": "LoadBalancer", "clusterIP": "10.96.0.10",
            "loadBalancerIP": "10.2.0.100", "ports": [ { "port": 80, "targetPort": 8080 } ],
            "backends": [ { "ip": "10.244.2.7" } ] } ]
        }
        """;
    static final int PORT2 = 1;
    static final int PORT3 = 2;
    static final int CLIENT = ip("198.51.100.7");
    static final int REMOTE_POD = ip("10.244.2.7");
    static final int VIP = ip("10.2.0.100");

    private static byte[] fromRouter(final int source, final int destination, final byte[] l4, final int protocol)
    {
        return Frames.ethernet(0x0200_0000_0201L, 0x0200_0000_02FEL, Frames.ETH_IPV4,
            Frames.ipv4(source, destination, protocol, 60, 0, l4));
    }

    /** A VXLAN packet from node2 carrying an IPv4 packet from the remote pod to {@code destination}. */
    private static byte[] fromRemotePod(final int destination, final byte[] l4, final int protocol)
    {
        final byte[] inner = Frames.ethernet(0x0200_0000_4201L, 0x0200_0000_4202L, Frames.ETH_IPV4,
            Frames.ipv4(REMOTE_POD, destination, protocol, 64, 0, l4));
        return VxlanTest.fromNode2(inner, 0x08, 42);
    }

    /** The inner frame of a VXLAN packet the gateway sent (outer headers checked: UDP 4789 to node2). */
    private static byte[] inner(final byte[] frame)
    {
        final ByteBuffer b = ByteBuffer.wrap(frame);
        assertEquals(ip("10.3.0.2"), b.getInt(14 + 16), "to node2's VTEP");
        assertEquals(4789, b.getShort(14 + 20 + 2) & 0xFFFF);
        assertEquals(0, Frames.naiveChecksum(frame, 14, 20, 0), "outer IPv4 checksum");
        final byte[] inner = java.util.Arrays.copyOfRange(frame, 50, frame.length);
        NatTest.assertChecksums(inner, 14);
        return inner;
    }

    private static Harness.Sent sent(final Harness harness, final long id, final int port)
    {
        final Harness.Sent sent = harness.sentFor(id);
        assertNotNull(sent, "packet " + id + " was not sent; dropped as " + harness.dropFor(id));
        assertEquals(port, sent.port());
        return sent;
    }

    @Test
    void aServiceBackendOnAnotherNodeIsReachedThroughTheTunnel() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long syn = harness.receive(PORT2, fromRouter(CLIENT, VIP, Frames.tcp(CLIENT, VIP, 40000, 80, 0x02,
            new byte[0]), 6));
        harness.flush();
        final ByteBuffer toPod = ByteBuffer.wrap(inner(sent(harness, syn, PORT3).frame()));
        assertEquals(REMOTE_POD, toPod.getInt(14 + 16), "DNAT to the remote pod, then encapsulated");
        assertEquals(CLIENT, toPod.getInt(14 + 12), "the client's address kept");
        assertEquals(8080, toPod.getShort(14 + 20 + 2) & 0xFFFF);

        final long synAck = harness.receive(PORT3, fromRemotePod(CLIENT, Frames.tcp(REMOTE_POD, CLIENT, 8080, 40000,
            0x12, new byte[0]), 6));
        harness.flush();
        final byte[] reply = sent(harness, synAck, PORT2).frame();
        NatTest.assertChecksums(reply, 14);
        final ByteBuffer b = ByteBuffer.wrap(reply);
        assertEquals(VIP, b.getInt(14 + 12), "decapsulated, then translated back to the VIP");
        assertEquals(80, b.getShort(14 + 20) & 0xFFFF);
        assertEquals(CLIENT, b.getInt(14 + 16));
    }

    @Test
    void aPodOnAnotherNodeUsesTheInternalSwitchNat() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final int server = ip("8.8.8.8");
        final long query = harness.receive(PORT3, fromRemotePod(server, Frames.udp(REMOTE_POD, server, 5555, 53,
            new byte[12]), 17));
        harness.flush();
        final byte[] out = sent(harness, query, PORT2).frame();
        NatTest.assertChecksums(out, 14);
        final ByteBuffer b = ByteBuffer.wrap(out);
        assertEquals(ip("10.2.0.1"), b.getInt(14 + 12), "decapsulated, then masqueraded");
        final int mapped = b.getShort(14 + 20) & 0xFFFF;

        final long answer = harness.receive(PORT2, fromRouter(server, ip("10.2.0.1"), Frames.udp(server,
            ip("10.2.0.1"), 53, mapped, new byte[40]), 17));
        harness.flush();
        final ByteBuffer toPod = ByteBuffer.wrap(inner(sent(harness, answer, PORT3).frame()));
        assertEquals(REMOTE_POD, toPod.getInt(14 + 16), "translated back, then encapsulated to its node");
        assertEquals(5555, toPod.getShort(14 + 20 + 2) & 0xFFFF);
        assertEquals(server, toPod.getInt(14 + 12));
    }
}
