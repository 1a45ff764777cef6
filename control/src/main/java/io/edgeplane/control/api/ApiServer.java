package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/JSON control API on the JDK's built-in server (no hand-written HTTP parsing), versioned under /v1:
 * <pre>
 * GET    /v1/routes[?interface=Port3]          POST /v1/routes {interface, prefix, nextHop, metric}
 * DELETE /v1/routes?interface=Port3&amp;prefix=192.168.20.0/24
 * GET    /v1/ports                             PUT  /v1/ports/{name} {adminUp}
 * GET    /v1/neighbors                         POST /v1/neighbors {interface, ip, mac}
 * DELETE /v1/neighbors?interface=Port2&amp;ip=10.2.0.9
 * GET    /v1/counters      GET /metrics (Prometheus text)
 * POST   /v1/trace {packets, address?}         GET  /v1/trace (text)
 * GET    /v1/config (the running config, in the config file's format)
 * </pre>
 * Resources ({@code /v1/<name>} with GET, POST, DELETE and {@code PUT /v1/<name>/<id>}) are served generically from
 * the {@link ControlService}'s registry of {@link ResourceHandler}s; GET takes exact-match filters on any field.
 * Errors are {@code {"error": "...", "field": "..."}} with a 4xx status; bodies over 64 KiB get 413. With a
 * token, every request needs {@code Authorization: Bearer <token>} (401 otherwise); binding anything but
 * loopback requires a token. Two threads serve requests from a bounded queue; beyond it the accepting thread
 * serves the request itself, which pushes back on a flood instead of dropping connections. Changes are
 * serialised by {@link ControlService} anyway; forwarding never waits for the API.
 */
public final class ApiServer implements AutoCloseable
{
    public static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpServer server;
    private final ControlService control;
    private final StatusService status;
    private final byte[] token;
    private final ThreadPoolExecutor executor;

    public ApiServer(final InetSocketAddress address, final String token, final ControlService control,
        final StatusService status) throws IOException
    {
        if (token == null && !address.getAddress().isLoopbackAddress())
        {
            throw new IllegalArgumentException("binding " + address.getAddress().getHostAddress() +
                " (not loopback) requires a token (--token or EDGEPLANE_TOKEN)");
        }
        this.control = control;
        this.status = status;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.server = HttpServer.create(address, 64);
        this.executor = new ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256),
            r -> new Thread(r, "edgeplane-api"), new ThreadPoolExecutor.CallerRunsPolicy());
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public int port()
    {
        return server.getAddress().getPort();
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            try
            {
                authorize(exchange);
                route(exchange);
            }
            catch (final ApiException ex)
            {
                final ObjectNode error = MAPPER.createObjectNode().put("error", ex.getMessage());
                if (ex.field() != null)
                {
                    error.put("field", ex.field());
                }
                send(exchange, ex.status(), error);
            }
            catch (final IllegalStateException ex)
            {
                send(exchange, 503, MAPPER.createObjectNode().put("error", ex.getMessage()));
            }
        }
    }

    private void authorize(final HttpExchange exchange) throws ApiException
    {
        if (token == null)
        {
            return;
        }
        final String header = exchange.getRequestHeaders().getFirst("Authorization");
        final byte[] given = header != null && header.startsWith("Bearer ") ?
            header.substring(7).getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, token))
        {
            throw new ApiException(401, null, "missing or wrong token");
        }
    }

    private void route(final HttpExchange exchange) throws IOException, ApiException
    {
        final String method = exchange.getRequestMethod();
        final String path = exchange.getRequestURI().getPath();
        final Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        switch (path)
        {
            case "/v1/counters" ->
            {
                requireMethod(method, "GET", path);
                send(exchange, 200, status.counters());
            }
            case "/metrics" ->
            {
                requireMethod(method, "GET", path);
                sendText(exchange, 200, "text/plain; version=0.0.4", status.prometheus());
            }
            case "/v1/trace" ->
            {
                switch (method)
                {
                    case "GET" -> sendText(exchange, 200, "text/plain; charset=utf-8", status.trace());
                    case "POST" -> send(exchange, 200, status.startTrace(body(exchange)));
                    default -> throw notAllowed(method, path);
                }
            }
            case "/v1/config" ->
            {
                requireMethod(method, "GET", path);
                send(exchange, 200, control.runningConfig());
            }
            default -> resource(exchange, method, path, query);
        }
    }

    /** {@code /v1/<resource>}: GET (filters), POST (add or replace), DELETE (key); {@code PUT /v1/<resource>/<name>}. */
    private void resource(final HttpExchange exchange, final String method, final String path,
        final Map<String, String> query) throws IOException, ApiException
    {
        final String rest = path.startsWith("/v1/") ? path.substring(4) : "";
        final int slash = rest.indexOf('/');
        final String name = slash < 0 ? rest : rest.substring(0, slash);
        if (name.isEmpty() || !control.has(name))
        {
            throw new ApiException(404, null, "no such resource " + path);
        }
        if (slash >= 0)
        {
            requireMethod(method, "PUT", path);
            final JsonNode body = body(exchange);
            if (!body.isObject())
            {
                throw ApiException.badRequest(null, "request body must be a JSON object");
            }
            ((ObjectNode)body).put("name", rest.substring(slash + 1));
            send(exchange, 200, MAPPER.valueToTree(control.add(name, body).answer()));
            return;
        }
        switch (method)
        {
            case "GET" -> send(exchange, 200, control.list(name, query));
            case "POST" ->
            {
                final ResourceHandler.Change change = control.add(name, body(exchange));
                send(exchange, change.replaced() ? 200 : 201, MAPPER.valueToTree(change.answer()));
            }
            case "DELETE" -> send(exchange, 200, MAPPER.valueToTree(control.remove(name, query)));
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

    private static JsonNode body(final HttpExchange exchange) throws IOException, ApiException
    {
        final InputStream in = exchange.getRequestBody();
        final byte[] data = in.readNBytes(MAX_BODY + 1);
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

    private static Map<String, String> query(final String raw)
    {
        final Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty())
        {
            return out;
        }
        for (final String pair : raw.split("&"))
        {
            final int eq = pair.indexOf('=');
            final String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            final String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(key, value);
        }
        return out;
    }

    private static void send(final HttpExchange exchange, final int status, final JsonNode body) throws IOException
    {
        sendText(exchange, status, "application/json", MAPPER.writerWithDefaultPrettyPrinter()
            .writeValueAsString(body) + "\n");
    }

    private static void sendText(final HttpExchange exchange, final int status, final String type,
        final String body) throws IOException
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0)
        {
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(bytes);
            }
        }
    }
}
