package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP/JSON control API on Jetty (no hand-written HTTP parsing), versioned under /v1:
 * <pre>
 * GET    /v1/routes[?interface=Port3]          POST /v1/routes {interface, prefix, nextHop, metric}
 * DELETE /v1/routes?interface=Port3&amp;prefix=192.168.20.0/24
 * GET    /v1/ports                             PUT  /v1/ports/{name} {adminUp}
 * GET    /v1/neighbors                         POST /v1/neighbors {interface, ip, mac}
 * DELETE /v1/neighbors?interface=Port2&amp;ip=10.2.0.9
 * GET    /v1/counters      GET /metrics (Prometheus text)      GET /v1/runtime (per-stage costs)
 * POST   /v1/trace {packets, address?}         GET  /v1/trace (text)
 * GET    /v1/config (the running config, in the config file's format)
 * GET    /v1/nat                               PUT  /v1/nat {inside, outside?, addresses, portRange, ...}
 * GET    /v1/services[?name=web]               POST /v1/services {name, type, clusterIP?, ports, backends}
 * DELETE /v1/services?name=web                 PUT  /v1/services/web/backends {backends}
 * GET    /v1/nat/sessions[?address=&amp;protocol=&amp;limit=]   DELETE /v1/nat/sessions[?address=&amp;protocol=]
 * </pre>
 * Resources ({@code /v1/<name>} with GET, POST, DELETE and {@code PUT /v1/<name>/<id>}) are served generically from
 * the {@link ControlService}'s registry of {@link ResourceHandler}s; GET takes exact-match filters on any field.
 * Errors are {@code {"error": "...", "field": "..."}} with a 4xx status; bodies over 64 KiB get 413. With a
 * token (at least {@value #MIN_TOKEN_LENGTH} characters), every request needs {@code Authorization: Bearer <token>}
 * (401 otherwise); binding anything but loopback requires a token.
 * <p>
 * Hostile or broken clients cannot hold the API: Jetty reads requests without a thread per connection, bodies are
 * read asynchronously, a connection silent for {@link Limits#idleTimeoutMillis} is closed, a request (headers and
 * body) not complete {@link Limits#requestTimeoutMillis} after its first byte is cut off (slowloris, a body shorter
 * than its Content-Length, a chunked body that never ends), and connections beyond {@link Limits#maxConnections}
 * are closed as they are accepted instead of waiting. Changes are serialised by {@link ControlService}; forwarding
 * never waits for the API.
 */
public final class ApiServer implements AutoCloseable
{
    public static final int MAX_BODY = 64 * 1024;
    /** An oversized body up to this length is read and discarded before the 413, so the answer arrives. */
    static final long DRAIN_LIMIT = 1 << 20;
    public static final int MIN_TOKEN_LENGTH = 16;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** How long clients may take and how many may be connected at once. */
    public record Limits(int maxConnections, long idleTimeoutMillis, long requestTimeoutMillis)
    {
        public static final Limits DEFAULT = new Limits(512, 10_000, 5_000);
    }

    private final Server server;
    private final ServerConnector connector;
    private final ControlService control;
    private final StatusService status;
    private final byte[] token;
    private final Limits limits;
    private final Map<Connection, long[]> open = new ConcurrentHashMap<>();
    private final AtomicInteger refused = new AtomicInteger();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r ->
    {
        final Thread thread = new Thread(r, "edgeplane-api-sweeper");
        thread.setDaemon(true);
        return thread;
    });

    public ApiServer(final InetSocketAddress address, final String token, final ControlService control,
        final StatusService status) throws IOException
    {
        this(address, token, control, status, Limits.DEFAULT);
    }

    public ApiServer(final InetSocketAddress address, final String token, final ControlService control,
        final StatusService status, final Limits limits) throws IOException
    {
        checkToken(address, token);
        this.control = control;
        this.status = status;
        this.limits = limits;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        final QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("edgeplane-api");
        threads.setDaemon(true);
        server = new Server(threads);
        server.setErrorHandler(new JsonErrors());
        final HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false);
        http.setRequestHeaderSize(8192);
        connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(address.getAddress().getHostAddress());
        connector.setPort(address.getPort());
        connector.setIdleTimeout(limits.idleTimeoutMillis());
        connector.addBean(new Connection.Listener()
        {
            @Override
            public void onOpened(final Connection connection)
            {
                if (open.size() >= limits.maxConnections())
                {
                    refused.incrementAndGet();
                    connection.getEndPoint().close();
                    return;
                }
                open.put(connection, new long[] {0, 0, 0});
            }

            @Override
            public void onClosed(final Connection connection)
            {
                open.remove(connection);
            }
        });
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(final Request request, final Response response, final Callback callback)
            {
                ApiServer.this.handle(request, response, callback);
                return true;
            }
        });
        try
        {
            server.start();
        }
        catch (final Exception ex)
        {
            stopQuietly();
            throw new IOException(address.getAddress().getHostAddress() + ":" + address.getPort() + ": " +
                (ex.getCause() != null ? ex.getCause().getMessage() : ex.getMessage()), ex);
        }
        final long period = Math.max(50, limits.requestTimeoutMillis() / 10);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /** Refuse a start that would leave the API open: no token off loopback, or an empty or short token. */
    public static void checkToken(final InetSocketAddress address, final String token)
    {
        if (token != null && token.length() < MIN_TOKEN_LENGTH)
        {
            throw new IllegalArgumentException("token: " + (token.isEmpty() ? "empty" : "shorter than " +
                MIN_TOKEN_LENGTH + " characters") + "; an API token must have at least " + MIN_TOKEN_LENGTH +
                " characters");
        }
        if (token == null && !address.getAddress().isLoopbackAddress())
        {
            throw new IllegalArgumentException("binding " + address.getAddress().getHostAddress() +
                " (not loopback) requires a token (--token-file, --token or EDGEPLANE_TOKEN)");
        }
    }

    public int port()
    {
        return connector.getLocalPort();
    }

    /** Connections closed at accept because {@link Limits#maxConnections} were open. */
    public int refusedConnections()
    {
        return refused.get();
    }

    @Override
    public void close()
    {
        sweeper.shutdownNow();
        stopQuietly();
    }

    private void stopQuietly()
    {
        try
        {
            server.stop();
        }
        catch (final Exception ignored)
        {
            // Stopping a server that did not start, or whose connections already went.
        }
    }

    /**
     * Cut off requests that are not complete {@link Limits#requestTimeoutMillis} after their first byte. Per
     * connection: {bytes in at the last look, responses out at the last look, when the pending request started}.
     */
    private void sweep()
    {
        final long now = System.nanoTime();
        for (final Map.Entry<Connection, long[]> entry : open.entrySet())
        {
            final Connection connection = entry.getKey();
            final long[] state = entry.getValue();
            final long bytesIn = connection.getBytesIn();
            final long messagesOut = connection.getMessagesOut();
            if (messagesOut != state[1])
            {
                state[1] = messagesOut;
                state[2] = 0;
            }
            if (bytesIn != state[0] && state[2] == 0)
            {
                state[2] = now;
            }
            state[0] = bytesIn;
            if (state[2] != 0 && now - state[2] > TimeUnit.MILLISECONDS.toNanos(limits.requestTimeoutMillis()))
            {
                connection.getEndPoint().close();
            }
        }
    }

    /** One request being served. */
    private record Call(Request request, Response response, Callback callback, JsonNode body)
    {
        String method()
        {
            return request.getMethod();
        }

        String path()
        {
            return Request.getPathInContext(request);
        }

        Map<String, String> query() throws ApiException
        {
            return ApiServer.query(request.getHttpURI().getQuery());
        }
    }

    private void handle(final Request request, final Response response, final Callback callback)
    {
        try
        {
            authorize(request);
        }
        catch (final ApiException ex)
        {
            error(new Call(request, response, callback, null), ex);
            return;
        }
        final String method = request.getMethod();
        if (!"POST".equals(method) && !"PUT".equals(method))
        {
            request.getContext().execute(() -> serve(new Call(request, response, callback, null)));
            return;
        }
        final long length = request.getLength();
        if (length > MAX_BODY)
        {
            final Call call = new Call(request, response, callback, null);
            final ApiException tooLarge = new ApiException(413, null, "request body larger than " + MAX_BODY +
                " bytes");
            if (length <= DRAIN_LIMIT)
            {
                // Read and discard it first: a connection closed with the body unread is reset by the kernel, and
                // the client may lose the 413 with it.
                Content.Source.consumeAll(request, Callback.from(
                    () -> request.getContext().execute(() -> error(call, tooLarge)),
                    failure -> request.getContext().execute(() -> error(call, tooLarge))));
                return;
            }
            error(call, tooLarge);
            return;
        }
        // The body arrives asynchronously: no thread waits for a slow client.
        Content.Source.asByteArrayAsync(request, MAX_BODY).whenComplete((bytes, failure) ->
            request.getContext().execute(() ->
            {
                final Call call = new Call(request, response, callback, null);
                if (failure != null)
                {
                    error(call, failure instanceof IllegalArgumentException ?
                        new ApiException(413, null, "request body larger than " + MAX_BODY + " bytes") :
                        ApiException.badRequest(null, "could not read the request body: " + failure.getMessage()));
                    return;
                }
                try
                {
                    serve(new Call(request, response, callback, parse(bytes)));
                }
                catch (final ApiException ex)
                {
                    error(call, ex);
                }
            }));
    }

    private void serve(final Call call)
    {
        try
        {
            route(call);
        }
        catch (final ApiException ex)
        {
            error(call, ex);
        }
        catch (final IllegalStateException ex)
        {
            send(call, 503, MAPPER.createObjectNode().put("error", String.valueOf(ex.getMessage())));
        }
        catch (final RuntimeException ex)
        {
            send(call, 500, MAPPER.createObjectNode().put("error", "internal error: " + ex));
        }
    }

    private void error(final Call call, final ApiException ex)
    {
        final ObjectNode error = MAPPER.createObjectNode().put("error", ex.getMessage());
        if (ex.field() != null)
        {
            error.put("field", ex.field());
        }
        send(call, ex.status(), error);
    }

    private void authorize(final Request request) throws ApiException
    {
        if (token == null)
        {
            return;
        }
        final String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        final byte[] given = header != null && header.startsWith("Bearer ") ?
            header.substring(7).getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, token))
        {
            throw new ApiException(401, null, "missing or wrong token");
        }
    }

    private void route(final Call call) throws ApiException
    {
        final String method = call.method();
        final String path = call.path();
        final Map<String, String> query = call.query();
        switch (path)
        {
            case "/v1/counters" ->
            {
                requireMethod(method, "GET", path);
                send(call, 200, status.counters());
            }
            case "/v1/runtime" ->
            {
                requireMethod(method, "GET", path);
                send(call, 200, status.runtime());
            }
            case "/metrics" ->
            {
                requireMethod(method, "GET", path);
                sendText(call, 200, "text/plain; version=0.0.4", status.prometheus());
            }
            case "/v1/trace" ->
            {
                switch (method)
                {
                    case "GET" -> sendText(call, 200, "text/plain; charset=utf-8", status.trace());
                    case "POST" -> send(call, 200, status.startTrace(call.body()));
                    default -> throw notAllowed(method, path);
                }
            }
            case "/v1/kubernetes" ->
            {
                requireMethod(method, "GET", path);
                send(call, 200, status.kubernetes());
            }
            case "/v1/config" ->
            {
                requireMethod(method, "GET", path);
                send(call, 200, control.runningConfig());
            }
            default -> resource(call, method, path, query);
        }
    }

    /** {@code /v1/<resource>}: GET (filters), POST (add or replace), DELETE (key); {@code PUT /v1/<resource>/<name>}. */
    private void resource(final Call call, final String method, final String path,
        final Map<String, String> query) throws ApiException
    {
        final String rest = path.startsWith("/v1/") ? path.substring(4) : "";
        final int slash = rest.indexOf('/');
        final String name = slash < 0 ? rest : rest.substring(0, slash);
        if (name.isEmpty() || !control.has(name))
        {
            throw new ApiException(404, null, "no such resource " + path);
        }
        if (slash >= 0 && !method.equals("PUT"))
        {
            final String part = rest.substring(slash + 1);
            switch (method)
            {
                case "GET" -> send(call, 200, control.get(name, part, query));
                case "DELETE" -> send(call, 200, control.delete(name, part, query));
                default -> throw notAllowed(method, path);
            }
            return;
        }
        if (control.singleton(name))
        {
            switch (method)
            {
                case "GET" -> send(call, 200, control.single(name));
                case "PUT" -> send(call, 200, MAPPER.valueToTree(control.add(name, call.body()).answer()));
                default -> throw notAllowed(method, path);
            }
            return;
        }
        final String id = slash < 0 ? "" : rest.substring(slash + 1);
        if (slash >= 0 && id.indexOf('/') > 0)
        {
            send(call, 200, MAPPER.valueToTree(control.put(name, id.substring(0, id.indexOf('/')),
                id.substring(id.indexOf('/') + 1), call.body()).answer()));
            return;
        }
        if (slash >= 0)
        {
            final JsonNode body = call.body();
            if (body == null || !body.isObject())
            {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            ((ObjectNode)body).put("name", rest.substring(slash + 1));
            send(call, 200, MAPPER.valueToTree(control.add(name, body).answer()));
            return;
        }
        switch (method)
        {
            case "GET" -> send(call, 200, control.list(name, query));
            case "POST" ->
            {
                final ResourceHandler.Change change = control.add(name, call.body());
                send(call, change.replaced() ? 200 : 201, MAPPER.valueToTree(change.answer()));
            }
            case "DELETE" -> send(call, 200, MAPPER.valueToTree(control.remove(name, query)));
            default -> throw notAllowed(method, path);
        }
    }

    private static void requireMethod(final String method, final String expected, final String path)
        throws ApiException
    {
        if (!method.equals(expected))
        {
            throw notAllowed(method, path);
        }
    }

    private static ApiException notAllowed(final String method, final String path)
    {
        return new ApiException(405, null, method + " not allowed on " + path);
    }

    private static JsonNode parse(final byte[] data) throws ApiException
    {
        if (data.length > MAX_BODY)
        {
            throw new ApiException(413, null, "request body larger than " + MAX_BODY + " bytes");
        }
        try
        {
            final JsonNode node = Json.tree(new String(data, StandardCharsets.UTF_8));
            if (node == null || node.isMissingNode())
            {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            return node;
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(null, "malformed JSON: " + ex.getMessage().replace("not valid JSON: ", ""));
        }
    }

    /**
     * The query's parameters, decoded. A malformed escape ({@code %ZZ}) or a parameter given twice is the client's
     * error (400 naming it), not a server error and not a silent choice of one of the values.
     */
    static Map<String, String> query(final String raw) throws ApiException
    {
        final Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty())
        {
            return out;
        }
        for (final String pair : raw.split("&"))
        {
            if (pair.isEmpty())
            {
                continue;
            }
            final int eq = pair.indexOf('=');
            final String key = decode(eq < 0 ? pair : pair.substring(0, eq), null);
            final String value = eq < 0 ? "" : decode(pair.substring(eq + 1), key);
            if (out.putIfAbsent(key, value) != null)
            {
                throw ApiException.badRequest(key, key + ": given more than once in the query");
            }
        }
        return out;
    }

    private static String decode(final String text, final String key) throws ApiException
    {
        try
        {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        }
        catch (final IllegalArgumentException ex)
        {
            throw ApiException.badRequest(key, (key != null ? key + ": " : "") + "malformed escape in the query: " +
                (text.length() > 100 ? text.substring(0, 100) + "..." : text));
        }
    }

    /**
     * What Jetty refuses before the API sees the request (a malformed request line, an ambiguous path such as
     * {@code /v1//routes}, headers over the limit) is answered in the API's error shape, not as an HTML page.
     */
    static final class JsonErrors extends ErrorHandler
    {
        @Override
        protected void generateResponse(final Request request, final Response response, final int code,
            final String message, final Throwable cause, final Callback callback)
        {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(body(code, message)), callback);
        }

        @Override
        public ByteBuffer badMessageError(final int status, final String reason, final HttpFields.Mutable fields)
        {
            if (HttpStatus.hasNoBody(status))
            {
                return ByteBuffer.allocate(0);
            }
            fields.put(HttpHeader.CONTENT_TYPE, "application/json");
            return ByteBuffer.wrap(body(status, reason));
        }

        private static byte[] body(final int status, final String message)
        {
            final String reason = message == null || message.isBlank() ? HttpStatus.getMessage(status) : message;
            try
            {
                return (MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(
                    MAPPER.createObjectNode().put("error", reason)) + "\n").getBytes(StandardCharsets.UTF_8);
            }
            catch (final IOException ex)
            {
                return ("{\"error\": \"" + HttpStatus.getMessage(status) + "\"}\n").getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    private static void send(final Call call, final int status, final JsonNode body)
    {
        try
        {
            sendText(call, status, "application/json", MAPPER.writerWithDefaultPrettyPrinter()
                .writeValueAsString(body) + "\n");
        }
        catch (final IOException ex)
        {
            sendText(call, 500, "text/plain", "could not encode the answer\n");
        }
    }

    private static void sendText(final Call call, final int status, final String type, final String body)
    {
        final Response response = call.response();
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), call.callback());
    }
}
