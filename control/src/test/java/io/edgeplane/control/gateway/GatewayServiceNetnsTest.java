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
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A LoadBalancer service between real Linux stacks, in namespaces this test creates (default offloads and sysctls):
 * a client outside (10.1.0.10, Port1), three backends each behind a port of its own (10.4.0.2, 10.5.0.2, 10.6.0.2
 * on Port4..6) serving {@code python3 -m http.server} with a page naming itself, and a pod (10.7.0.2, Port7) inside
 * the cluster. Needs root (CI runs as root); skipped with a visible reason otherwise; namespaces removed by name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayServiceNetnsTest
{
    /** Workers the gateway runs. */
    int workers()
    {
        return 1;
    }

    /** Put before the gateway's command inside its namespace (e.g. {@code env VAR=value}). */
    List<String> launcher()
    {
        return List.of();
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String GW = "ept-lgw";
    private static final String CLIENT = "ept-lcl";
    private static final String POD = "ept-lpod";
    private static final String[] BACKENDS = {"ept-lb1", "ept-lb2", "ept-lb3"};
    private static final String[] BACKEND_IPS = {"10.4.0.2", "10.5.0.2", "10.6.0.2"};

    private final Netns netns = new Netns();
    private final List<Process> servers = new ArrayList<>();
    private Path dir;
    private GatewayProcess gateway;
    int apiPort;
    private byte[] blob;

    @BeforeAll
    void setUp() throws Exception
    {
        Assumptions.assumeTrue(Netns.available(), "needs root and iproute2 for network namespaces (CI runs as root)");
        dir = Files.createTempDirectory("edgeplane-lb");
        netns.add(GW);
        netns.add(CLIENT);
        netns.add(POD);
        Netns.veth(GW, CLIENT, "ept-lcl0", "10.1.0.10/24", "ept-lp1", "02:00:00:00:01:01");
        Netns.must("ip", "-n", CLIENT, "route", "add", "default", "via", "10.1.0.1");
        Netns.veth(GW, POD, "ept-lpod0", "10.7.0.2/24", "ept-lp7", "02:00:00:00:07:01");
        Netns.must("ip", "-n", POD, "route", "add", "default", "via", "10.7.0.1");
        blob = new byte[6 << 20];
        new Random(3).nextBytes(blob);
        for (int i = 0; i < 3; i++)
        {
            netns.add(BACKENDS[i]);
            final int subnet = 4 + i;
            Netns.veth(GW, BACKENDS[i], "ept-lb" + (i + 1) + "0", BACKEND_IPS[i] + "/24", "ept-lp" + subnet,
                "02:00:00:00:0" + subnet + ":01");
            Netns.must("ip", "-n", BACKENDS[i], "route", "add", "default", "via", "10." + subnet + ".0.1");
            final Path www = Files.createDirectories(dir.resolve("www" + i));
            Files.writeString(www.resolve("whoami"), "b" + (i + 1));
            Files.write(www.resolve("blob"), blob);
            // Larger than any socket buffers: cut mid-way, a download cannot have been all in flight already.
            try (java.io.RandomAccessFile big = new java.io.RandomAccessFile(www.resolve("big").toFile(), "rw"))
            {
                big.setLength(64 << 20);
            }
            servers.add(new ProcessBuilder("ip", "netns", "exec", BACKENDS[i], "python3", "-m", "http.server",
                "8080", "--bind", BACKEND_IPS[i], "--directory", www.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("http" + i + ".log").toFile()).start());
        }
        // Every backend listening before the first connection: one that is still starting answers with a reset.
        for (final String backend : BACKENDS)
        {
            for (int attempt = 0; attempt < 100 &&
                Netns.exec(5, backend, "ss", "-Hltn", "sport = :8080").output().isBlank(); attempt++)
            {
                Thread.sleep(100);
            }
        }
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "ept-lp1" },
                { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.4.0.1/24", "device": "ept-lp4" },
                { "name": "Port5", "mac": "02:00:00:00:05:01", "ipv4": "10.5.0.1/24", "device": "ept-lp5" },
                { "name": "Port6", "mac": "02:00:00:00:06:01", "ipv4": "10.6.0.1/24", "device": "ept-lp6" },
                { "name": "Port7", "mac": "02:00:00:00:07:01", "ipv4": "10.7.0.1/24", "device": "ept-lp7" } ],
              "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.120", "serviceCIDR": "10.96.0.0/12",
                                  "clusterSources": ["10.7.0.0/24"] },
              "services": [ { "name": "web", "type": "LoadBalancer", "clusterIP": "10.96.0.10",
                "loadBalancerIP": "10.1.0.100",
                "ports": [ { "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080 } ],
                "backends": [ { "ip": "10.4.0.2" }, { "ip": "10.5.0.2" }, { "ip": "10.6.0.2" } ] } ],
              "workers": %d }
            """.formatted(workers()));
        final List<String> prefix = new ArrayList<>(List.of("ip", "netns", "exec", GW));
        prefix.addAll(launcher());
        gateway = GatewayProcess.start(prefix, "--config", config.toString(),
            "--state", dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", "afpacket");
        apiPort = Integer.parseInt(gateway.base().substring(gateway.base().lastIndexOf(':') + 1));
        for (int attempt = 0; attempt < 40 && !fetch(CLIENT, "http://10.1.0.100/whoami").startsWith("b"); attempt++)
        {
            Thread.sleep(250);
        }
    }

    @AfterAll
    void tearDown()
    {
        servers.forEach(Process::destroyForcibly);
        if (gateway != null)
        {
            gateway.close();
        }
        netns.cleanUp();
    }

    private static String fetch(final String ns, final String url) throws IOException
    {
        final Netns.Result result = Netns.exec(10, ns, "curl", "-s", "-f", "--max-time", "3", url);
        return result.exit() == 0 ? result.output().strip() : "error " + result.exit();
    }

    private void setBackends(final String... ips) throws IOException
    {
        final StringBuilder body = new StringBuilder("{\"backends\": [");
        for (int i = 0; i < ips.length; i++)
        {
            body.append(i == 0 ? "" : ",").append("{\"ip\": \"").append(ips[i]).append("\"}");
        }
        final Netns.Result result = Netns.exec(10, GW, "curl", "-s", "-f", "-X", "PUT", "-d", body + "]}",
            "http://127.0.0.1:" + apiPort + "/v1/services/web/backends");
        assertEquals(0, result.exit(), result.output());
    }

    /** The backend the client's connection from {@code port} is on, from the gateway's session table. */
    private String backendOf(final int clientPort) throws IOException
    {
        final Netns.Result result = Netns.exec(10, GW, "curl", "-s", "http://127.0.0.1:" + apiPort +
            "/v1/nat/sessions?address=10.1.0.10&protocol=tcp");
        for (final JsonNode session : MAPPER.readTree(result.output()))
        {
            if (session.get("original").asText().startsWith("10.1.0.10:" + clientPort + " "))
            {
                return session.get("reply").asText().split(":")[0];
            }
        }
        return null;
    }

    @Test
    @Order(1)
    void threeHundredConnectionsToTheVipAreSpreadOverEveryBackend() throws Exception
    {
        final Netns.Result result = Netns.exec(120, CLIENT, "python3", "-c", """
            import urllib.request, collections
            counts = collections.Counter()
            for i in range(300):
                with urllib.request.urlopen("http://10.1.0.100/whoami", timeout=5) as r:
                    counts[r.read().decode()] += 1
            print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
            """);
        assertEquals(0, result.exit(), result.output());
        final Map<String, Integer> counts = new HashMap<>();
        for (final String pair : result.output().strip().split(" "))
        {
            counts.put(pair.split("=")[0], Integer.parseInt(pair.split("=")[1]));
        }
        assertEquals(3, counts.size(), result.output());
        counts.values().forEach(count -> assertTrue(count >= 60 && count <= 140,
            "each backend within 100 +- 40 of 300: " + counts));
        final Netns.Result neighbor = Netns.exec(10, CLIENT, "ip", "neigh", "show", "10.1.0.100");
        assertTrue(neighbor.output().contains("02:00:00:00:01:01"), "the client learned the VIP's MAC from the " +
            "gateway's ARP reply: " + neighbor.output());
    }

    @Test
    @Order(2)
    void theClusterIpServesThePodOnlyAndTheNodePortServesTheOutside() throws Exception
    {
        assertTrue(fetch(POD, "http://10.96.0.10/whoami").startsWith("b"), "ClusterIP from inside the cluster");
        assertEquals("error 28", fetch(CLIENT, "http://10.96.0.10/whoami"), "ClusterIP from outside: dropped");
        assertTrue(fetch(CLIENT, "http://10.1.0.1:30080/whoami").startsWith("b"), "NodePort from outside");
        final Netns.Result log = Netns.exec(10, GW, "curl", "-s", "http://127.0.0.1:" + apiPort + "/v1/counters");
        assertTrue(MAPPER.readTree(log.output()).path("drops").path("lb-cluster-ip-source").asLong() > 0);
    }

    /** Start a slow download of {@code file} from the VIP from client port {@code port}. */
    private Process download(final int port, final Path out, final String file) throws IOException
    {
        return new ProcessBuilder("ip", "netns", "exec", CLIENT, "curl", "-s", "-f", "--max-time", "40",
            "--local-port", Integer.toString(port), "--limit-rate", "1500k", "-o", out.toString(),
            "http://10.1.0.100/" + file).redirectErrorStream(true).start();
    }

    @Test
    @Order(3)
    void aDownloadSurvivesAnUnrelatedBackendGoingAndComing() throws Exception
    {
        final Path out = dir.resolve("download");
        final Process curl = download(45001, out, "blob");
        Thread.sleep(700);
        final String backend = backendOf(45001);
        assertTrue(backend != null, "the download's session is listed");
        final List<String> others = new ArrayList<>(List.of(BACKEND_IPS));
        others.remove(backend);
        final String unrelated = others.get(0);
        final List<String> without = new ArrayList<>(List.of(BACKEND_IPS));
        without.remove(unrelated);
        setBackends(without.toArray(String[]::new));
        Thread.sleep(700);
        setBackends(BACKEND_IPS);
        assertTrue(curl.waitFor(40, TimeUnit.SECONDS));
        assertEquals(0, curl.exitValue(), new String(curl.getInputStream().readAllBytes()));
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(blob),
            MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out)), "bytes intact");
    }

    @Test
    @Order(4)
    void removingADownloadsOwnBackendEndsItCleanly() throws Exception
    {
        final Path out = dir.resolve("cut");
        final Process curl = download(45002, out, "big");
        Thread.sleep(700);
        final String backend = backendOf(45002);
        assertTrue(backend != null, "the download's session is listed");
        final List<String> rest = new ArrayList<>(List.of(BACKEND_IPS));
        rest.remove(backend);
        final long removedAt = System.nanoTime();
        setBackends(rest.toArray(String[]::new));
        // Promptly means the client's stack has the reset: its socket leaves the kernel's tables (ss lists it no
        // more). curl itself learns of it only after reading what its receive buffer still holds (Linux delivers
        // queued data before ECONNRESET), at its 1500k/s; that buffer grows with the kernel's autotuning, up to
        // tcp_rmem's 32 MiB, so curl's exit can come seconds later on a busy host (a CI run: 12.8 s) with nothing
        // late on the wire.
        double seconds = Double.NaN;
        while (System.nanoTime() - removedAt < TimeUnit.SECONDS.toNanos(10))
        {
            final Netns.Result socket = Netns.exec(10, CLIENT, "ss", "-tnH", "state", "all", "sport", "= :45002");
            if (socket.exit() == 0 && socket.output().isBlank())
            {
                seconds = (System.nanoTime() - removedAt) / 1e9;
                break;
            }
            Thread.sleep(50);
        }
        assertTrue(curl.waitFor(45, TimeUnit.SECONDS), "ended, not hung");
        assertNotEquals(0, curl.exitValue(), "the transfer is cut");
        // What the gateway saw, for a failure to explain itself: resets it sent for the gone backend, its drops.
        final JsonNode counters = MAPPER.readTree(Netns.exec(10, GW, "curl", "-s", "http://127.0.0.1:" + apiPort +
            "/v1/counters").output());
        assertTrue(seconds < 5, "the client's connection reset promptly (by a live backend at the client's next " +
            "segment, or by the gateway at the gone backend's next): " + seconds + " s; curl exit " +
            curl.exitValue() + ", gateway events " + counters.path("events") + ", drops " + counters.path("drops"));
        setBackends(BACKEND_IPS);
    }

    @Test
    @Order(5)
    void aServiceWithoutBackendsRefusesAtOnceAndServesAgainWhenOneComes() throws Exception
    {
        setBackends();
        final long start = System.nanoTime();
        final Netns.Result refused = Netns.exec(15, CLIENT, "curl", "-s", "--max-time", "5",
            "http://10.1.0.100/whoami");
        final double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(7, refused.exit(), "curl: connection refused (ICMP port unreachable): " + refused.output());
        assertTrue(seconds < 2, "promptly: " + seconds + " s");
        setBackends(BACKEND_IPS[1]);
        assertEquals("b2", fetch(CLIENT, "http://10.1.0.100/whoami"));
        setBackends(BACKEND_IPS);
    }

    /** A python3 script in the client's namespace; it reads a line from stdin where it waits for the test. */
    private record ClientScript(Process process, java.io.BufferedReader out) implements AutoCloseable
    {
        static ClientScript start(final String code) throws IOException
        {
            final Process process = new ProcessBuilder("ip", "netns", "exec", CLIENT, "python3", "-c", code)
                .redirectErrorStream(true).start();
            return new ClientScript(process, new java.io.BufferedReader(
                new java.io.InputStreamReader(process.getInputStream())));
        }

        String line() throws IOException
        {
            return out.readLine();
        }

        void go() throws IOException
        {
            process.getOutputStream().write('\n');
            process.getOutputStream().flush();
        }

        /** The script's last line, once it ended (within {@code seconds}). */
        String result(final int seconds) throws Exception
        {
            assertTrue(process.waitFor(seconds, TimeUnit.SECONDS), "the client script ends");
            return line();
        }

        @Override
        public void close()
        {
            process.destroyForcibly();
        }
    }

    @Test
    @Order(6)
    void aClientThatStoppedReadingIsResetWhenItsBackendGoes() throws Exception
    {
        // The client asks for the 64 MiB file and never reads: its window closes, the backend stalls and only sends
        // window probes. Nothing the client sends could find out the backend went; the gateway's reset must.
        try (ClientScript client = ClientScript.start("""
            import socket, sys, time
            s = socket.create_connection(("10.1.0.100", 80), timeout=5)
            s.sendall(b"GET /big HTTP/1.0\\r\\n\\r\\n")
            print(s.getsockname()[1], flush=True)
            sys.stdin.readline()
            end = time.time() + 15
            while time.time() < end:
                error = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    print("error", error, round(time.time() - end + 15, 1), flush=True)
                    sys.exit(0)
                time.sleep(0.05)
            print("no error", flush=True)
            """))
        {
            final int port = Integer.parseInt(client.line().strip());
            Thread.sleep(1500); // the client's receive buffer fills, the backend's window closes
            final String backend = backendOf(port);
            assertTrue(backend != null, "the connection's session is listed");
            final List<String> rest = new ArrayList<>(List.of(BACKEND_IPS));
            rest.remove(backend);
            setBackends(rest.toArray(String[]::new));
            client.go();
            final String result = client.result(25);
            assertTrue(result != null && result.startsWith("error 104 "), "ECONNRESET from the gateway's reset: " +
                result);
        }
        finally
        {
            setBackends(BACKEND_IPS);
        }
    }

    @Test
    @Order(7)
    void anOpenConnectionIsResetWhenItsServiceLosesEveryBackend() throws Exception
    {
        // Scaled to zero under an open connection: the client's next request must fail at once, not retransmit
        // for minutes into ICMP port unreachable (only a soft error to an established socket).
        try (ClientScript client = ClientScript.start("""
            import socket, sys, time
            s = socket.create_connection(("10.1.0.100", 80), timeout=5)
            print("connected", flush=True)
            sys.stdin.readline()
            start = time.time()
            s.settimeout(10)
            try:
                s.sendall(b"GET /whoami HTTP/1.0\\r\\n\\r\\n")
                print("answered", s.recv(100), flush=True)
            except ConnectionResetError:
                print("reset", round(time.time() - start, 2), flush=True)
            except socket.timeout:
                print("timeout", flush=True)
            """))
        {
            assertEquals("connected", client.line());
            setBackends();
            client.go();
            final String result = client.result(20);
            assertTrue(result != null && result.startsWith("reset "), "ECONNRESET: " + result);
            assertTrue(Double.parseDouble(result.substring(6)) < 2, "at once: " + result);
        }
        finally
        {
            setBackends(BACKEND_IPS);
        }
    }
}
