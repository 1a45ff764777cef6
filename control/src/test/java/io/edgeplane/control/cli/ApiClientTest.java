package io.edgeplane.control.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client verbs against answers that are not the gateway's, and --api values that are not URLs. */
class ApiClientTest
{
    private HttpServer server;
    private volatile int status;
    private volatile String body;
    /** What the last request carried: method, path and query, Authorization, Content-Type, Location, body. */
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception
    {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange ->
        {
            seen.clear();
            seen.addAll(List.of(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")),
                String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")),
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            if (status / 100 == 3)
            {
                exchange.getResponseHeaders().add("Location", "/elsewhere");
            }
            final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop()
    {
        server.stop(0);
    }

    private String api()
    {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private static String fail(final String... args)
    {
        final StringWriter err = new StringWriter();
        assertEquals(1, Main.execute(new PrintWriter(err, true), args), err.toString());
        final String text = err.toString();
        assertEquals(1, text.lines().count(), "one line: " + text);
        return text.strip();
    }

    @Test
    void shouldSayWhenSomethingElseAnswers()
    {
        status = 404;
        body = "";
        assertEquals("edgeplane: error: http://" + api() + "/v1/counters: HTTP 404 with an empty answer, not the " +
            "gateway's API (is --api right?)", fail("counters", "--api", api()));
        status = 502;
        body = "<html>\n<body>Bad\u0007 gateway</body>\n</html>\n";
        assertEquals("edgeplane: error: http://" + api() + "/v1/counters: HTTP 502 with '<html>...', not the " +
            "gateway's API (is --api right?)", fail("counters", "--api", api()));
        status = 500;
        body = "x".repeat(10_000);
        assertEquals(200 + 3, fail("counters", "--api", api()).replaceAll(".*with '|', not.*", "").length());
        // The gateway's own errors are passed on as they are.
        status = 400;
        body = "{\"error\": \"prefix: host bits set in 10.0.0.1/8\", \"field\": \"prefix\"}";
        assertEquals("edgeplane: error: prefix: host bits set in 10.0.0.1/8 (HTTP 400)",
            fail("counters", "--api", "http://" + api() + "/"));
    }

    @Test
    void shouldRefuseAnApiThatIsNotAnHttpUrl()
    {
        assertEquals("edgeplane: error: --api: not a URL: http://[::1 (Expected closing bracket for IPv6 address)",
            fail("counters", "--api", "http://[::1"));
        assertEquals("edgeplane: error: --api: not a URL: http://a b (Illegal character in authority)",
            fail("counters", "--api", "a b"));
        assertEquals("edgeplane: error: --api: expected http://HOST:PORT or https://HOST:PORT, got ftp://gw:9180",
            fail("counters", "--api", "ftp://gw:9180"));
        assertEquals("edgeplane: error: --api: expected http://HOST:PORT or https://HOST:PORT, got http://:::::",
            fail("counters", "--api", ":::::"));
    }

    @Test
    void shouldSendTheMethodTokenAndJsonBodyAndPrintTheAnswer() throws Exception
    {
        status = 200;
        body = "{\"interface\": \"Port2\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.2.0.254\", " +
            "\"metric\": 50, \"replaced\": false}";
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(0, Main.execute("route", "add", "--api", api(), "--token", "s3cret", "--interface",
                "Port2", "--prefix", "10.9.0.0/16", "--next-hop", "10.2.0.254", "--metric", "50"));
        }
        finally
        {
            System.setOut(stdout);
        }
        assertEquals(List.of("POST", "/v1/routes", "Bearer s3cret", "application/json"), seen.subList(0, 4));
        final com.fasterxml.jackson.databind.JsonNode sent = ApiClient.MAPPER.readTree(seen.get(4));
        assertEquals("Port2", sent.get("interface").asText());
        assertEquals("10.9.0.0/16", sent.get("prefix").asText());
        assertEquals(50, sent.get("metric").asInt());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("10.9.0.0/16  10.2.0.254  50"), out.toString());
        // A DELETE carries its query and no body.
        assertEquals(0, Main.execute("route", "remove", "--api", api(), "--interface", "Port 2", "--prefix",
            "10.9.0.0/16"));
        assertEquals(List.of("DELETE", "/v1/routes?interface=Port+2&prefix=10.9.0.0%2F16", "null", "null", ""),
            seen);
    }

    @Test
    void shouldNotFollowARedirect()
    {
        status = 302;
        body = "";
        assertEquals("edgeplane: error: http://" + api() + "/v1/counters: HTTP 302 with an empty answer, not the " +
            "gateway's API (is --api right?)", fail("counters", "--api", api()));
        assertEquals("/v1/counters", seen.get(1));
    }
}
