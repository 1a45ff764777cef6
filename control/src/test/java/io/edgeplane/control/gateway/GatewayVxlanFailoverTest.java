package io.edgeplane.control.gateway;

import io.edgeplane.control.api.GatewayProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The overlay follows the underlay's routes: the other node's VTEP (10.9.0.2, on its loopback) is reached over
 * Port3 (metric 100) or Port2 (metric 200), two links to the same node (namespaces created here and removed by name;
 * root). Pinging a remote pod sends VXLAN over Port3; with Port3 set down through the API the encapsulated packets
 * leave by Port2 instead, and when it comes back they return to Port3. Counted on the other node's interfaces.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayVxlanFailoverTest
{
    private static final String GW = "ept-fgw";
    private static final String POD = "ept-fpod";
    private static final String NODE2 = "ept-fn2";

    private final Netns netns = new Netns();
    private GatewayProcess gateway;
    private int apiPort;

    @BeforeAll
    void setUp() throws Exception
    {
        Assumptions.assumeTrue(Netns.available(), "needs root and iproute2 for network namespaces (CI runs as root)");
        final Path dir = Files.createTempDirectory("edgeplane-vxlan-failover");
        for (final String ns : List.of(GW, POD, NODE2))
        {
            netns.add(ns);
        }
        veth(POD, "ept-fpc", "10.244.1.5/24", "ept-fp1", "02:00:00:00:01:01");
        Netns.must("ip", "-n", POD, "route", "add", "default", "via", "10.244.1.1");
        veth(NODE2, "ept-fa", "10.2.0.2/24", "ept-fp2", "02:00:00:00:02:01");
        veth(NODE2, "ept-fb", "10.3.0.2/24", "ept-fp3", "02:00:00:00:03:01");
        Netns.must("ip", "-n", NODE2, "addr", "add", "10.9.0.2/32", "dev", "lo");
        Netns.must("ip", "-n", NODE2, "addr", "add", "10.244.2.5/32", "dev", "lo");
        Netns.must("ip", "-n", NODE2, "link", "add", "vxlan42", "type", "vxlan", "id", "42", "dstport", "4789",
            "local", "10.9.0.2", "nolearning");
        Netns.must("ip", "-n", NODE2, "link", "set", "vxlan42", "address", "02:00:00:00:42:02");
        Netns.must("ip", "-n", NODE2, "addr", "add", "192.168.42.2/24", "dev", "vxlan42");
        Netns.must("ip", "-n", NODE2, "link", "set", "vxlan42", "up");
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.244.1.1/24", "device": "ept-fp1" },
                { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "ept-fp2" },
                { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24", "device": "ept-fp3" },
                { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
                  "ipv4": "192.168.42.1/24" } ],
              "neighbors": [ { "interface": "vxlan0", "ip": "192.168.42.2", "mac": "02:00:00:00:42:02",
                               "vtep": "10.9.0.2" } ],
              "routes": [
                { "interface": "vxlan0", "prefix": "10.244.2.0/24", "nextHop": "192.168.42.2" },
                { "interface": "Port3", "prefix": "10.9.0.0/24", "nextHop": "10.3.0.2", "metric": 100 },
                { "interface": "Port2", "prefix": "10.9.0.0/24", "nextHop": "10.2.0.2", "metric": 200 } ] }
            """);
        gateway = GatewayProcess.start(List.of("ip", "netns", "exec", GW), "--config", config.toString(),
            "--state", dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", "afpacket");
        apiPort = Integer.parseInt(gateway.base().substring(gateway.base().lastIndexOf(':') + 1));
    }

    private static void veth(final String ns, final String hostEnd, final String address, final String gwEnd,
        final String gwMac) throws IOException
    {
        Netns.veth(GW, ns, hostEnd, address, gwEnd, gwMac);
    }

    @AfterAll
    void tearDown()
    {
        if (gateway != null)
        {
            gateway.close();
        }
        netns.cleanUp();
    }

    private static long received(final String device) throws IOException
    {
        final Netns.Result result = Netns.exec(10, NODE2, "cat", "/sys/class/net/" + device +
            "/statistics/rx_packets");
        assertEquals(0, result.exit(), result.output());
        return Long.parseLong(result.output().strip());
    }

    /** Ping the remote pod 20 times (the replies do not matter here) and say which link got the tunnel frames. */
    private static long[] pingAndCount() throws IOException
    {
        final long viaPort2 = received("ept-fa");
        final long viaPort3 = received("ept-fb");
        Netns.exec(20, POD, "ping", "-n", "-c", "20", "-i", "0.05", "-W", "1", "10.244.2.5");
        return new long[] {received("ept-fa") - viaPort2, received("ept-fb") - viaPort3};
    }

    private void setPort3(final boolean up) throws IOException
    {
        final Netns.Result result = Netns.exec(10, GW, "curl", "-s", "-X", "PUT", "-d", "{\"adminUp\": " + up + "}",
            "http://127.0.0.1:" + apiPort + "/v1/ports/Port3");
        assertEquals(0, result.exit(), result.output());
    }

    @Test
    void shouldCarryTheOverlayOverTheBestUnderlayRouteAndFailOver() throws Exception
    {
        final long[] normal = pingAndCount();
        assertTrue(normal[1] >= 20 && normal[0] < 5, "over Port3 (metric 100): " + normal[0] + " / " + normal[1]);
        setPort3(false);
        final long[] failedOver = pingAndCount();
        assertTrue(failedOver[0] >= 20 && failedOver[1] < 5,
            "over Port2 (metric 200) with Port3 down: " + failedOver[0] + " / " + failedOver[1]);
        setPort3(true);
        final long[] back = pingAndCount();
        assertTrue(back[1] >= 20 && back[0] < 5, "back over Port3: " + back[0] + " / " + back[1]);
    }
}
