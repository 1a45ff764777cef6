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
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masquerade between real Linux stacks, each in a namespace this test creates (peers with default offloads and
 * sysctls; the router forwards, as routers do):
 * <pre>
 *   ept-nin (pod 10.4.0.2) --- Port4 [ ept-ngw: edgeplane, NAT ] Port2 --- ept-nrt (router 10.2.0.254,
 *                                                                       198.51.100.1) --- ept-nsv (198.51.100.7)
 * </pre>
 * The router and the server know nothing of 10.4.0.0/24: only translated traffic can come back. Needs root (CI runs
 * as root); skipped with a visible reason otherwise. Namespaces are removed by name afterwards. Run once per port
 * implementation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class GatewayNatNetnsContract
{
    /** The {@code --io} mode under test. */
    abstract String io();

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
    private static final String GW = "ept-ngw";
    private static final String INSIDE = "ept-nin";
    private static final String ROUTER = "ept-nrt";
    private static final String SERVER = "ept-nsv";

    private final Netns netns = new Netns();
    private Path dir;
    private GatewayProcess gateway;
    private int apiPort;
    private Process http;
    private Process udpEcho;

    @BeforeAll
    void setUp() throws Exception
    {
        Assumptions.assumeTrue(Netns.available(), "needs root and iproute2 for network namespaces (CI runs as root)");
        dir = Files.createTempDirectory("edgeplane-nat");
        for (final String ns : List.of(GW, INSIDE, ROUTER, SERVER))
        {
            netns.add(ns);
        }
        Netns.veth(GW, INSIDE, "ept-nin0", "10.4.0.2/24", "ept-np4", "02:00:00:00:04:01");
        Netns.must("ip", "-n", INSIDE, "route", "add", "default", "via", "10.4.0.1");
        Netns.veth(GW, ROUTER, "ept-nrt0", "10.2.0.254/24", "ept-np2", "02:00:00:00:02:01");
        Netns.must("ip", "link", "add", "ept-nrt1", "netns", ROUTER, "type", "veth", "peer", "name", "ept-nsv0",
            "netns", SERVER);
        Netns.must("ip", "-n", ROUTER, "addr", "add", "198.51.100.1/24", "dev", "ept-nrt1");
        Netns.must("ip", "-n", ROUTER, "link", "set", "ept-nrt1", "up");
        Netns.mustExec(ROUTER, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        Netns.must("ip", "-n", SERVER, "addr", "add", "198.51.100.7/24", "dev", "ept-nsv0");
        Netns.must("ip", "-n", SERVER, "link", "set", "ept-nsv0", "up");
        Netns.must("ip", "-n", SERVER, "route", "add", "default", "via", "198.51.100.1");

        final Path www = Files.createDirectories(dir.resolve("www"));
        final byte[] blob = new byte[3 << 20];
        new Random(11).nextBytes(blob);
        Files.write(www.resolve("blob"), blob);
        http = new ProcessBuilder("ip", "netns", "exec", SERVER, "python3", "-m", "http.server", "8080", "--bind",
            "198.51.100.7", "--directory", www.toString()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("http.log").toFile()).start();
        Files.writeString(dir.resolve("udp_echo.py"), """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("198.51.100.7", 7000))
            s.settimeout(120)
            while True:
                data, peer = s.recvfrom(2048)
                s.sendto(b"from " + peer[0].encode() + b" " + data, peer)
            """);
        udpEcho = new ProcessBuilder("ip", "netns", "exec", SERVER, "python3", dir.resolve("udp_echo.py").toString())
            .redirectErrorStream(true).redirectOutput(dir.resolve("udp.log").toFile()).start();

        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "ept-np2" },
                { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.4.0.1/24", "device": "ept-np4" } ],
              "routes": [ { "interface": "Port2", "prefix": "0.0.0.0/0", "nextHop": "10.2.0.254" } ],
              "nat": { "inside": ["Port4"], "maxSessions": 65536 }, "workers": %d }
            """.formatted(workers()));
        final List<String> prefix = new java.util.ArrayList<>(List.of("ip", "netns", "exec", GW));
        prefix.addAll(launcher());
        gateway = GatewayProcess.start(prefix, "--config", config.toString(),
            "--state", dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", io());
        apiPort = Integer.parseInt(gateway.base().substring(gateway.base().lastIndexOf(':') + 1));
        // Until the first ARP exchanges are done, the first packets may go; wait for a working path.
        for (int attempt = 0; attempt < 20 && Netns.exec(5, INSIDE, "ping", "-c", "1", "-W", "1", "198.51.100.7")
            .exit() != 0; attempt++)
        {
            Thread.sleep(200);
        }
    }

    @AfterAll
    void tearDown()
    {
        for (final Process process : new Process[] {http, udpEcho})
        {
            if (process != null)
            {
                process.destroyForcibly();
            }
        }
        if (gateway != null)
        {
            gateway.close();
        }
        netns.cleanUp();
    }

    JsonNode api(final String method, final String path) throws IOException
    {
        final Netns.Result result = Netns.exec(15, GW, "curl", "-s", "-X", method, "http://127.0.0.1:" + apiPort +
            path);
        assertEquals(0, result.exit(), result.output());
        return MAPPER.readTree(result.output());
    }

    /** A Python snippet run in a namespace (bounded by {@code seconds}). */
    private Netns.Result python(final String ns, final int seconds, final String name, final String code)
        throws IOException
    {
        final Path script = dir.resolve(name + ".py");
        Files.writeString(script, code);
        return Netns.exec(seconds, ns, "python3", script.toString());
    }

    @Test
    @Order(1)
    void pingFromInsideWorks() throws Exception
    {
        final Netns.Result ping = Netns.exec(30, INSIDE, "ping", "-n", "-c", "5", "-i", "0.2", "-W", "2",
            "198.51.100.7");
        assertEquals(0, ping.exit(), ping.output());
        assertTrue(ping.output().contains("5 received"), ping.output());
    }

    @Test
    @Order(2)
    void aDownloadFromInsideArrivesIntactAndTheServerSeesTheOutsideAddress() throws Exception
    {
        final Path out = dir.resolve("downloaded");
        Netns.Result result = null;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            result = Netns.exec(60, INSIDE, "curl", "-s", "-f", "--max-time", "40", "-o", out.toString(),
                "http://198.51.100.7:8080/blob");
            if (result.exit() == 0)
            {
                break;
            }
            Thread.sleep(250);
        }
        assertEquals(0, result.exit(), "curl: " + result.output());
        final MessageDigest sha = MessageDigest.getInstance("SHA-256");
        assertArrayEquals(sha.digest(Files.readAllBytes(dir.resolve("www/blob"))),
            MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out)), "bytes intact");
        final String log = Files.readString(dir.resolve("http.log"));
        assertTrue(log.contains("10.2.0.1 - - ") && log.contains("GET /blob"), log);
        assertTrue(!log.contains("10.4.0.2"), "the server never sees the inside address: " + log);
    }

    @Test
    @Order(3)
    void aUdpRequestGetsItsResponse() throws Exception
    {
        final Netns.Result result = python(INSIDE, 20, "udp_client", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("10.4.0.2", 5555))
            s.settimeout(2)
            for attempt in range(5):
                s.sendto(b"hello", ("198.51.100.7", 7000))
                try:
                    print(s.recvfrom(2048)[0].decode())
                    break
                except socket.timeout:
                    pass
            """);
        assertEquals(0, result.exit(), result.output());
        assertEquals("from 10.2.0.1 hello", result.output().strip());
        final JsonNode sessions = api("GET", "/v1/nat/sessions?protocol=udp&address=10.4.0.2");
        assertTrue(sessions.toString().contains("10.4.0.2:5555 -> 198.51.100.7:7000"), sessions.toString());
    }

    @Test
    @Order(4)
    void icmpErrorsFromBeyondTheGatewayReachTheInsideSocket() throws Exception
    {
        // TTL 2: the gateway forwards with 1, the router answers time exceeded to 10.2.0.1, the gateway translates it
        // back. The kernel hands the error to the socket only when the quoted packet matches its own tuple.
        final Netns.Result result = python(INSIDE, 30, "errors", """
            import errno, socket
            def attempt(ttl, port):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVERR", 11), 1)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
                s.settimeout(2)
                s.connect(("198.51.100.7", port))
                for i in range(5):
                    s.send(b"probe")
                    try:
                        s.recv(100)
                        return "answered"
                    except socket.timeout:
                        continue
                    except OSError as e:
                        return errno.errorcode[e.errno]
                return "nothing"
            print(attempt(2, 7000), attempt(64, 9))
            """);
        assertEquals(0, result.exit(), result.output());
        assertEquals("EHOSTUNREACH ECONNREFUSED", result.output().strip(),
            "time exceeded from the router, port unreachable from the server");
        final Netns.Result ping = Netns.exec(20, INSIDE, "ping", "-n", "-c", "1", "-t", "2", "-W", "2",
            "198.51.100.7");
        assertTrue(ping.output().contains("From 10.2.0.254") && ping.output().contains("Time to live exceeded"),
            ping.output());
    }

    @Test
    @Order(5)
    void aClosedServerPortRefusesTheConnection() throws Exception
    {
        final Netns.Result result = Netns.exec(20, INSIDE, "curl", "-s", "--max-time", "5",
            "http://198.51.100.7:9/");
        assertEquals(7, result.exit(), "curl exit 7: connection refused (the server's RST came back): " +
            result.output());
    }

    @Test
    @Order(6)
    void fiveHundredConcurrentConnectionsAllComplete() throws Exception
    {
        Files.writeString(dir.resolve("tcp_echo.py"), """
            import asyncio
            async def echo(reader, writer):
                data = await reader.readline()
                writer.write(data)
                await writer.drain()
                writer.close()
            async def main():
                server = await asyncio.start_server(echo, "198.51.100.7", 7001, backlog=1024)
                await asyncio.sleep(60)
            asyncio.run(main())
            """);
        final Process echo = new ProcessBuilder("ip", "netns", "exec", SERVER, "python3",
            dir.resolve("tcp_echo.py").toString()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("tcp_echo.log").toFile()).start();
        try
        {
            final Netns.Result result = python(INSIDE, 60, "tcp_clients", """
                import asyncio
                async def one(i):
                    for attempt in range(20):
                        try:
                            reader, writer = await asyncio.wait_for(
                                asyncio.open_connection("198.51.100.7", 7001), 5)
                            break
                        except (ConnectionRefusedError, asyncio.TimeoutError):
                            await asyncio.sleep(0.2)
                    else:
                        return False
                    writer.write(b"line %d\\n" % i)
                    await writer.drain()
                    data = await asyncio.wait_for(reader.readline(), 10)
                    writer.close()
                    return data == b"line %d\\n" % i
                async def main():
                    results = await asyncio.gather(*(one(i) for i in range(500)), return_exceptions=True)
                    print(sum(1 for r in results if r is True))
                asyncio.run(main())
                """);
            assertEquals(0, result.exit(), result.output());
            assertEquals("500", result.output().strip());
        }
        finally
        {
            echo.destroyForcibly();
            echo.waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(api("GET", "/v1/nat").path("statistics").path("sessions").asInt() >= 500);
    }

    @Test
    @Order(7)
    void unsolicitedConnectionsFromOutsideToMappedPortsFail() throws Exception
    {
        // The inside host holds a mapping on 10.2.0.1:5555 (its UDP flow to 7000); TCP and UDP from another port of
        // the server to that mapped port are filtered (address-and-port-dependent) without an answer.
        Files.writeString(dir.resolve("hold.py"), """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("10.4.0.2", 5555))
            s.sendto(b"keep", ("198.51.100.7", 7000))
            s.settimeout(1)
            print("echo", s.recvfrom(100)[0].decode(), flush=True)
            s.settimeout(6)
            try:
                print("received", s.recvfrom(100)[0].decode())
            except socket.timeout:
                print("nothing")
            """);
        final Process holder = new ProcessBuilder("ip", "netns", "exec", INSIDE, "python3",
            dir.resolve("hold.py").toString()).redirectErrorStream(true).start();
        Thread.sleep(1500);
        final Netns.Result outside = python(SERVER, 30, "intrude", """
            import socket
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("198.51.100.7", 7002))
            u.sendto(b"intruder", ("10.2.0.1", 5555))
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.settimeout(3)
            try:
                t.connect(("10.2.0.1", 5555))
                print("connected")
            except socket.timeout:
                print("timeout")
            except OSError as e:
                print("error", e.errno)
            """);
        assertEquals(0, outside.exit(), outside.output());
        assertEquals("timeout", outside.output().strip(), "an unsolicited SYN is dropped silently (RFC 5382 REQ-4)");
        assertTrue(holder.waitFor(15, TimeUnit.SECONDS));
        final String held = new String(holder.getInputStream().readAllBytes());
        assertTrue(held.contains("echo from 10.2.0.1 keep") && held.contains("nothing"),
            "the mapping existed and nothing unsolicited came through it: " + held);
        assertTrue(api("GET", "/v1/counters").path("drops").path("nat-no-session").asLong() > 0);
    }
}
