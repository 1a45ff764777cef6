package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests no HTTP client library would send, written on a raw socket: every one is answered with a 4xx in the
 * API's JSON error shape ({@code {"error": ...}}), whether the API refuses it (a malformed escape in the query, a
 * parameter given twice) or Jetty does before the API sees it (an ambiguous path, a malformed request line,
 * headers over the limit) — never a 500, never an HTML page.
 */
class ApiMalformedRequestTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ApiServer api;

    @BeforeEach
    void setUp() throws IOException
    {
        api = new ApiServer(new InetSocketAddress("127.0.0.1", 0), null, new ControlService(List.of(), null, 7),
            null);
    }

    @AfterEach
    void tearDown()
    {
        api.close();
    }

    private record Answer(int status, String contentType, String body)
    {
    }

    /** Send raw bytes, read the answer until the server closes (every request says Connection: close). */
    private Answer send(final String raw) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", api.port()))
        {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            final InputStream in = socket.getInputStream();
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final byte[] chunk = new byte[4096];
            try
            {
                for (int n; (n = in.read(chunk)) > 0 && out.size() < 1 << 20; )
                {
                    out.write(chunk, 0, n);
                }
            }
            catch (final SocketTimeoutException ex)
            {
                // Whatever arrived within the bound is the answer; the assertions say whether it is complete.
            }
            final String text = out.toString(StandardCharsets.ISO_8859_1);
            final int headerEnd = text.indexOf("\r\n\r\n");
            assertTrue(headerEnd > 0, "no complete answer: " + text);
            final String[] head = text.substring(0, headerEnd).split("\r\n");
            String type = null;
            for (final String line : head)
            {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-type:"))
                {
                    type = line.substring("content-type:".length()).trim();
                }
            }
            return new Answer(Integer.parseInt(head[0].split(" ")[1]), type, text.substring(headerEnd + 4));
        }
    }

    private static String get(final String target)
    {
        return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    }

    private static void assertJsonError(final Answer answer, final int status, final String reason)
        throws IOException
    {
        assertEquals(status, answer.status(), answer.body());
        assertNotNull(answer.contentType(), "no content type: " + answer.body());
        assertTrue(answer.contentType().startsWith("application/json"), answer.contentType());
        final JsonNode error = MAPPER.readTree(answer.body());
        assertTrue(error.path("error").asText().contains(reason), answer.body());
    }

    @Test
    void shouldAnswerAMalformedEscapeInTheQueryAsTheClientsError() throws IOException
    {
        assertJsonError(send(get("/v1/config?interface=%ZZ")), 400, "malformed escape in the query: %ZZ");
        assertJsonError(send(get("/v1/config?x%G1=1")), 400, "malformed escape in the query: x%G1");
        assertJsonError(send(get("/v1/config?interface=Port%2")), 400, "interface: malformed escape");
        // The same request well formed is served: only the escape was wrong.
        assertEquals(200, send(get("/v1/config?interface=Port%32")).status());
    }

    @Test
    void shouldRefuseAParameterGivenTwiceInsteadOfPickingOne() throws IOException
    {
        assertJsonError(send(get("/v1/config?prefix=10.0.0.0/8&prefix=10.1.0.0/16")), 400,
            "prefix: given more than once");
        assertJsonError(send(get("/v1/config?prefix=1&pre%66ix=2")), 400, "prefix: given more than once");
    }

    @Test
    void shouldParseQueriesLikeTheFormDecoder() throws ApiException
    {
        assertEquals(Map.of("interface", "Port 3", "prefix", "10.0.0.0/8", "flag", ""),
            ApiServer.query("interface=Port+3&&prefix=10.0.0.0%2F8&flag"));
        assertEquals(Map.of(), ApiServer.query(""));
        assertEquals(Map.of(), ApiServer.query(null));
        final ApiException twice = assertThrows(ApiException.class, () -> ApiServer.query("a=1&a=1"));
        assertEquals("a", twice.field());
        assertEquals(400, twice.status());
    }

    @Test
    void shouldAnswerWhatJettyRefusesInTheApisErrorShape() throws IOException
    {
        assertJsonError(send(get("/v1//routes")), 400, "Ambiguous");
        assertJsonError(send("GET /v1/config HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"), 400, "");
        assertJsonError(send("GET /v1/config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + "x".repeat(10_000) +
            "\r\nConnection: close\r\n\r\n"), 431, "");
        // A request with no Host (required by HTTP/1.1) is refused by Jetty too, in the same shape.
        assertJsonError(send("GET /v1/config HTTP/1.1\r\nConnection: close\r\n\r\n"), 400, "");
    }
}
