package io.edgeplane.control.api;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile and broken clients on loopback cannot hold the API: idle sockets, slowloris headers, bodies shorter than
 * their Content-Length, chunked bodies that never end, and more connections than the bound. Every socket here is
 * bounded in count and closed by the test; every wait is bounded in time.
 */
class ApiSlowClientTest
{
    private static final ApiServer.Limits LIMITS = new ApiServer.Limits(300, 1_000, 1_000);
    private static final long CLOSED_WITHIN_MILLIS = 8_000;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Socket> sockets = new ArrayList<>();
    private ApiServer api;

    @AfterEach
    void tearDown() throws IOException
    {
        for (final Socket socket : sockets)
        {
            socket.close();
        }
        if (api != null)
        {
            api.close();
        }
    }

    private void start(final ApiServer.Limits limits) throws IOException
    {
        api = new ApiServer(new InetSocketAddress("127.0.0.1", 0), null, new ControlService(List.of(), null, 7),
            null, limits);
    }

    private Socket connect() throws IOException
    {
        final Socket socket = new Socket("127.0.0.1", api.port());
        socket.setSoTimeout(200);
        sockets.add(socket);
        return socket;
    }

    /** A normal client: must be answered promptly (the request itself times out after 2 s). */
    private void assertApiAnswers() throws Exception
    {
        final HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + api.port() + "/v1/config")).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"flowHashSeed\" : 7"), response.body());
    }

    /** True when the server closed the socket within the bound (reads end of stream or a reset). */
    private static boolean closedByServer(final Socket socket, final byte[] trickle) throws IOException
    {
        final InputStream in = socket.getInputStream();
        final OutputStream out = socket.getOutputStream();
        final long deadline = System.nanoTime() + CLOSED_WITHIN_MILLIS * 1_000_000L;
        int sent = 0;
        while (System.nanoTime() < deadline)
        {
            try
            {
                if (trickle != null)
                {
                    out.write(trickle[sent++ % trickle.length]);
                    out.flush();
                }
                while (true)
                {
                    if (in.read() < 0)
                    {
                        return true;
                    }
                }
            }
            catch (final SocketTimeoutException slow)
            {
                // Nothing from the server yet: trickle on.
            }
            catch (final IOException reset)
            {
                return true;
            }
        }
        return false;
    }

    @Test
    void shouldAnswerNormallyWhile200SlowSocketsAreOpen() throws Exception
    {
        start(LIMITS);
        for (int i = 0; i < 200; i++)
        {
            final Socket socket = connect();
            socket.getOutputStream().write('G');
            socket.getOutputStream().flush();
        }
        for (int i = 0; i < 20; i++)
        {
            assertApiAnswers();
        }
        // The half-sent requests are cut off by the request read timeout, not kept forever.
        for (final Socket socket : sockets.subList(0, 10))
        {
            assertTrue(closedByServer(socket, null), "a one-byte request is closed");
        }
    }

    @Test
    void shouldCutOffSlowlorisHeadersShortBodiesEndlessChunksAndIdleSockets() throws Exception
    {
        start(LIMITS);
        final Socket slowloris = connect();
        slowloris.getOutputStream().write("GET /v1/config HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        final Socket shortBody = connect();
        shortBody.getOutputStream().write(("POST /v1/trace HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pa")
            .getBytes(StandardCharsets.US_ASCII));
        final Socket chunked = connect();
        chunked.getOutputStream().write(("POST /v1/trace HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        final Socket idle = connect();

        assertApiAnswers();
        assertTrue(closedByServer(slowloris, "X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII)), "slowloris");
        assertTrue(closedByServer(shortBody, null), "body shorter than Content-Length");
        assertTrue(closedByServer(chunked, "1\r\n \r\n".getBytes(StandardCharsets.US_ASCII)), "endless chunks");
        assertTrue(closedByServer(idle, null), "idle connection");
        assertApiAnswers();
    }

    @Test
    void shouldRefuseConnectionsBeyondTheBoundInsteadOfQueueingThem() throws Exception
    {
        start(new ApiServer.Limits(20, 5_000, 5_000));
        for (int i = 0; i < 30; i++)
        {
            connect();
        }
        int refused = 0;
        for (final Socket socket : sockets.subList(20, 30))
        {
            refused += closedByServer(socket, null) ? 1 : 0;
        }
        assertEquals(10, refused, "every connection beyond 20 is closed at once");
        assertEquals(10, api.refusedConnections());
        for (final Socket socket : sockets)
        {
            socket.close();
        }
        sockets.clear();
        Thread.sleep(200);
        assertApiAnswers();
    }
}
