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

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The client verbs against answers that are not the gateway's, and --api values that are not URLs. */
class ApiClientTest
{
    private HttpServer server;
    private volatile int status;
    private volatile String body;

    @BeforeEach
    void start() throws Exception
    {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange ->
        {
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
}
