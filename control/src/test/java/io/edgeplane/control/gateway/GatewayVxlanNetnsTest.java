package io.edgeplane.control.gateway;

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
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway as a VTEP beside the Linux kernel's vxlan device, as Flannel sets it up (namespaces created here and
 * removed by name; root):
 * <pre>
 *   ept-vpod (10.244.1.5) --- Port1 [ ept-vgw: edgeplane, vxlan0 192.168.42.1 vni 42 ] Port3 (10.3.0.1)
 *        --- underlay --- ept-vn2 (10.3.0.2, kernel vxlan42 192.168.42.2, nolearning, static fdb + neighbor;
 *                                  the remote pod 10.244.2.5 on its loopback)
 * </pre>
 * Ping and a download both ways through the tunnel with the peers' default offloads, and every frame the gateway put
 * on the underlay decoded by tshark as VXLAN with no malformed packet.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayVxlanNetnsTest
{
    private static final String GW = "ept-vgw";
    private static final String POD = "ept-vpod";
    private static final String NODE2 = "ept-vn2";

    private final Netns netns = new Netns();
    private Path dir;
    private GatewayProcess gateway;
    private Process capture;

    @BeforeAll
    void setUp() throws Exception
    {
        Assumptions.assumeTrue(Netns.available(), "needs root and iproute2 for network namespaces (CI runs as root)");
        dir = Files.createTempDirectory("edgeplane-vxlan");
        for (final String ns : List.of(GW, POD, NODE2))
        {
            netns.add(ns);
        }
        veth(POD, "ept-vpc", "10.244.1.5/24", "ept-vp1", "02:00:00:00:01:01");
        Netns.must("ip", "-n", POD, "route", "add", "default", "via", "10.244.1.1");
        veth(NODE2, "ept-vnu", "10.3.0.2/24", "ept-vp3", "02:00:00:00:03:01");
        // The other node: a kernel vxlan device as Flannel programs it.
        kernelVxlan(42);
        Netns.must("ip", "-n", NODE2, "route", "add", "10.244.1.0/24", "via", "192.168.42.1", "dev", "vxlan42",
            "onlink");
        Netns.must("ip", "-n", NODE2, "addr", "add", "10.244.2.5/32", "dev", "lo");
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.244.1.1/24", "device": "ept-vp1" },
                { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24", "device": "ept-vp3" },
                { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
                  "ipv4": "192.168.42.1/24" } ],
              "neighbors": [ { "interface": "vxlan0", "ip": "192.168.42.2", "mac": "02:00:00:00:42:02",
                               "vtep": "10.3.0.2" } ],
              "routes": [ { "interface": "vxlan0", "prefix": "10.244.2.0/24", "nextHop": "192.168.42.2" } ] }
            """);
        capture = new ProcessBuilder("ip", "netns", "exec", NODE2, "tshark", "-q", "-i", "ept-vnu", "-w",
            dir.resolve("underlay.pcap").toString(), "-f", "udp port 4789 and src host 10.3.0.1")
            .redirectErrorStream(true).redirectOutput(dir.resolve("tshark.log").toFile()).start();
        gateway = GatewayProcess.start(List.of("ip", "netns", "exec", GW), "--config", config.toString(),
            "--state", dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", "afpacket");
    }

    /**
     * On node2, a kernel vxlan device for {@code vni} as Flannel programs one: {@code vxlan<vni>} with
     * 192.168.{vni}.2/24 and MAC 02:00:00:00:{vni}:02, no learning, the gateway's tunnel (192.168.{vni}.1,
     * 02:00:00:00:{vni}:01) behind VTEP 10.3.0.1 in the fdb and the neighbor table.
     */
    private static void kernelVxlan(final int vni) throws IOException
    {
        final String dev = "vxlan" + vni;
        final String gatewayMac = "02:00:00:00:" + vni + ":01";
        Netns.must("ip", "-n", NODE2, "link", "add", dev, "type", "vxlan", "id", String.valueOf(vni), "dstport",
            "4789", "dev", "ept-vnu", "local", "10.3.0.2", "nolearning");
        Netns.must("ip", "-n", NODE2, "link", "set", dev, "address", "02:00:00:00:" + vni + ":02");
        Netns.must("ip", "-n", NODE2, "addr", "add", "192.168." + vni + ".2/24", "dev", dev);
        Netns.must("ip", "-n", NODE2, "link", "set", dev, "up");
        Netns.must("ip", "netns", "exec", NODE2, "bridge", "fdb", "append", gatewayMac, "dev", dev, "dst",
            "10.3.0.1");
        Netns.must("ip", "-n", NODE2, "neigh", "add", "192.168." + vni + ".1", "lladdr", gatewayMac, "dev", dev,
            "nud", "permanent");
    }

    private static void veth(final String ns, final String hostEnd, final String address, final String gwEnd,
        final String gwMac) throws IOException
    {
        Netns.veth(GW, ns, hostEnd, address, gwEnd, gwMac);
    }

    @AfterAll
    void tearDown() throws Exception
    {
        if (gateway != null)
        {
            gateway.close();
        }
        if (capture != null)
        {
            capture.destroy();
            capture.waitFor(10, TimeUnit.SECONDS);
        }
        netns.cleanUp();
    }

    @Test
    @Order(1)
    void shouldPingThroughTheTunnelBothWays() throws Exception
    {
        final Netns.Result fromPod = Netns.exec(30, POD, "ping", "-n", "-c", "5", "-i", "0.2", "-W", "1",
            "10.244.2.5");
        assertTrue(fromPod.output().matches("(?s).* [3-5] received.*"), fromPod.output());
        final Netns.Result fromNode2 = Netns.exec(30, NODE2, "ping", "-n", "-c", "5", "-i", "0.2", "-W", "1", "-I",
            "10.244.2.5", "10.244.1.5");
        assertTrue(fromNode2.output().matches("(?s).* [3-5] received.*"), fromNode2.output());
        final Netns.Result gatewayTunnelAddress = Netns.exec(30, NODE2, "ping", "-n", "-c", "3", "-i", "0.2", "-W",
            "1", "192.168.42.1");
        assertTrue(gatewayTunnelAddress.output().matches("(?s).* [2-3] received.*"), gatewayTunnelAddress.output());
    }

    private void download(final String serverNs, final String bind, final String clientNs) throws Exception
    {
        final Path www = Files.createDirectories(dir.resolve("www-" + serverNs));
        final byte[] blob = new byte[2 << 20];
        new Random(11).nextBytes(blob);
        Files.write(www.resolve("blob"), blob);
        final Process server = new ProcessBuilder("ip", "netns", "exec", serverNs, "python3", "-m", "http.server",
            "8080", "--bind", bind, "--directory", www.toString()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("http-" + serverNs + ".log").toFile()).start();
        try
        {
            final Path out = dir.resolve("downloaded-" + clientNs);
            Netns.Result result = null;
            for (int attempt = 0; attempt < 5; attempt++)
            {
                result = Netns.exec(40, clientNs, "curl", "-s", "-f", "--connect-timeout", "2", "--max-time", "30",
                    "-o", out.toString(), "http://" + bind + ":8080/blob");
                if (result.exit() == 0)
                {
                    break;
                }
                Thread.sleep(250);
            }
            assertEquals(0, result.exit(), "curl " + clientNs + " <- " + bind + ": " + result.output() + "\n" +
                Netns.exec(10, GW, "curl", "-s", gateway.base() + "/v1/counters").output());
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(blob),
                MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out)), "bytes intact");
        }
        finally
        {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(2)
    void shouldDownloadThroughTheTunnelBothWays() throws Exception
    {
        download(NODE2, "10.244.2.5", POD);
        download(POD, "10.244.1.5", NODE2);
    }

    @Test
    @Order(3)
    void shouldEmitOnlyWellFormedVxlanOnTheUnderlay() throws Exception
    {
        Thread.sleep(500);
        capture.destroy();
        capture.waitFor(10, TimeUnit.SECONDS);
        final Netns.Result decoded = Netns.run(60, "tshark", "-r", dir.resolve("underlay.pcap").toString(), "-d",
            "udp.port==4789,vxlan", "-T", "fields", "-e", "vxlan.vni", "-e", "ip.checksum.status", "-e",
            "_ws.expert.message");
        assertEquals(0, decoded.exit(), decoded.output());
        // (tshark's own notices, such as running as root, are not frames)
        final List<String> lines = decoded.output().lines().filter(l -> l.matches("^\\d.*")).toList();
        assertTrue(lines.size() > 100, "frames captured: " + lines.size());
        for (final String line : lines)
        {
            assertTrue(line.startsWith("42\t"), "a VXLAN frame with VNI 42: " + line);
            assertFalse(line.toLowerCase().contains("malformed") || line.contains("Bad checksum"), line);
        }
    }

    /** An API call from inside the gateway's namespace (its API listens on that namespace's loopback). */
    private String api(final String method, final String path, final String body) throws IOException
    {
        final Netns.Result result = body == null ?
            Netns.exec(10, GW, "curl", "-s", "-w", " %{http_code}", "-X", method, gateway.base() + path) :
            Netns.exec(10, GW, "curl", "-s", "-w", " %{http_code}", "-X", method, "-d", body, gateway.base() + path);
        assertEquals(0, result.exit(), result.output());
        return result.output().substring(result.output().lastIndexOf(' ') + 1);
    }

    @Test
    @Order(4)
    void shouldCarryTrafficOverATunnelAddedAtRunTimeAndStopWhenItIsRemoved() throws Exception
    {
        // The other node gets a second overlay (VNI 43, a third pod subnet); the gateway learns it through the API.
        kernelVxlan(43);
        Netns.must("ip", "-n", NODE2, "addr", "add", "10.244.3.5/32", "dev", "lo");
        Netns.must("ip", "-n", NODE2, "route", "replace", "10.244.1.0/24", "via", "192.168.43.1", "dev", "vxlan43",
            "onlink");

        assertEquals("201", api("POST", "/v1/ports", "{\"name\":\"vxlan43\",\"type\":\"vxlan\",\"vni\":43," +
            "\"underlay\":\"Port3\",\"mac\":\"02:00:00:00:43:01\",\"ipv4\":\"192.168.43.1/24\"}"));
        assertEquals("201", api("POST", "/v1/neighbors", "{\"interface\":\"vxlan43\",\"ip\":\"192.168.43.2\"," +
            "\"mac\":\"02:00:00:00:43:02\",\"vtep\":\"10.3.0.2\"}"));
        assertEquals("201", api("POST", "/v1/routes", "{\"interface\":\"vxlan43\",\"destinationPrefix\":" +
            "\"10.244.3.0/24\",\"nextHop\":\"192.168.43.2\"}"));
        final Netns.Result up = Netns.exec(30, POD, "ping", "-n", "-c", "5", "-i", "0.2", "-W", "1", "10.244.3.5");
        assertTrue(up.output().matches("(?s).* [3-5] received.*"), up.output());

        assertEquals("409", api("DELETE", "/v1/ports?name=vxlan43", null));
        assertEquals("200", api("DELETE", "/v1/routes?interface=vxlan43&destinationPrefix=10.244.3.0/24", null));
        assertEquals("200", api("DELETE", "/v1/neighbors?interface=vxlan43&ip=192.168.43.2", null));
        assertEquals("200", api("DELETE", "/v1/ports?name=vxlan43", null));
        final Netns.Result down = Netns.exec(30, POD, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "10.244.3.5");
        assertTrue(down.output().contains(" 0 received"), down.output());
        // The tunnel that came from the config file still carries traffic (node2 answers over it again).
        Netns.must("ip", "-n", NODE2, "route", "replace", "10.244.1.0/24", "via", "192.168.42.1", "dev", "vxlan42",
            "onlink");
        final Netns.Result still = Netns.exec(30, POD, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "10.244.2.5");
        assertTrue(still.output().matches("(?s).* [2-3] received.*"), still.output());
    }
}
