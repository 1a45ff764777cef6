package io.edgeplane.control.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.control.api.GatewayProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Devices change under a running gateway (namespaces ept-dgw, ept-dcl, ept-dsv, created and removed here; root):
 * the server's veth is deleted under traffic and created again with the same names and MAC (the port reports the
 * device gone, sends are not counted as sent, and the port is rebound without a restart), and the device MTU is
 * lowered below the config's (a too-big DF packet gets ICMP fragmentation needed with the device's MTU).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayDeviceChangeTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String GW = "ept-dgw";
    private static final String CLIENT = "ept-dcl";
    private static final String SERVER = "ept-dsv";

    private final Netns netns = new Netns();
    private GatewayProcess gateway;
    private int apiPort;

    @BeforeAll
    void setUp() throws Exception
    {
        Assumptions.assumeTrue(Netns.available(), "needs root and iproute2 for network namespaces (CI runs as root)");
        final Path dir = Files.createTempDirectory("edgeplane-devices");
        for (final String ns : List.of(GW, CLIENT, SERVER))
        {
            netns.add(ns);
        }
        link(CLIENT, "ept-dc", "10.1.0.10/24", "ept-dp1", "02:00:00:00:01:01", "10.1.0.1");
        link(SERVER, "ept-ds", "10.2.0.20/24", "ept-dp2", "02:00:00:00:02:01", "10.2.0.1");
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "ept-dp1" },
                { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "ept-dp2" } ] }
            """);
        gateway = GatewayProcess.start(List.of("ip", "netns", "exec", GW), "--config", config.toString(),
            "--state", dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", "afpacket");
        apiPort = Integer.parseInt(gateway.base().substring(gateway.base().lastIndexOf(':') + 1));
    }

    private static void link(final String ns, final String hostEnd, final String address, final String gwEnd,
        final String gwMac, final String gatewayAddress) throws IOException
    {
        Netns.veth(GW, ns, hostEnd, address, gwEnd, gwMac);
        Netns.must("ip", "-n", ns, "route", "replace", "default", "via", gatewayAddress);
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

    private JsonNode port2() throws IOException
    {
        final Netns.Result result = Netns.exec(15, GW, "curl", "-s", "http://127.0.0.1:" + apiPort + "/v1/ports");
        assertEquals(0, result.exit(), result.output());
        return MAPPER.readTree(result.output()).get(1);
    }

    private static boolean pingWorks() throws IOException
    {
        return Netns.exec(20, CLIENT, "ping", "-n", "-c", "3", "-i", "0.3", "-W", "1", "10.2.0.20").output()
            .matches("(?s).* [1-3] received.*");
    }

    /** Poll (bounded) until the condition holds. */
    private static boolean eventually(final Check check) throws Exception
    {
        for (int i = 0; i < 40; i++)
        {
            if (check.holds())
            {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    @FunctionalInterface
    private interface Check
    {
        boolean holds() throws Exception;
    }

    @Test
    @Order(1)
    void shouldRebindAPortWhoseDeviceWasDeletedAndCreatedAgain() throws Exception
    {
        assertTrue(pingWorks(), "ping before");
        Netns.must("ip", "-n", SERVER, "link", "del", "ept-ds");
        assertTrue(eventually(() -> "missing".equals(port2().get("link").asText())), port2().toString());
        final long txBefore = port2().get("txPackets").asLong();
        // Traffic towards the missing port: routes through it are withdrawn, nothing counts as sent.
        Netns.exec(10, CLIENT, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "10.2.0.20");
        assertEquals(txBefore, port2().get("txPackets").asLong(), "no send counted while the device is gone");

        link(SERVER, "ept-ds", "10.2.0.20/24", "ept-dp2", "02:00:00:00:02:01", "10.2.0.1");
        assertTrue(eventually(() -> "up".equals(port2().get("link").asText())), port2().toString());
        assertTrue(eventually(GatewayDeviceChangeTest::pingWorks), "ping after the device came back");
        assertTrue(gateway.output().contains("Port2: device ept-dp2 is back"), gateway.output());
    }

    @Test
    @Order(2)
    void shouldFollowALoweredDeviceMtuWithFragmentationNeeded() throws Exception
    {
        Netns.must("ip", "-n", GW, "link", "set", "ept-dp2", "mtu", "1000");
        assertTrue(eventually(() -> port2().get("mtu").asInt() == 1000), port2().toString());
        assertEquals(1500, port2().get("configuredMtu").asInt());
        final Netns.Result big = Netns.exec(20, CLIENT, "ping", "-n", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do",
            "-s", "1172", "10.2.0.20");
        assertTrue(big.output().contains("mtu = 1000") || big.output().contains("mtu=1000"), big.output());
        assertTrue(Netns.exec(20, CLIENT, "ping", "-n", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do", "-s", "900",
            "10.2.0.20").output().contains(" 2 received"), "packets that fit still pass");
    }
}
