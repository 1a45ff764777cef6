package io.edgeplane.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Options and HTTP calls shared by the CLI verbs that talk to a running gateway. */
public final class ApiClient
{
    static final ObjectMapper MAPPER = new ObjectMapper();

    @Option(names = "--api", description = "gateway API (default: $EDGEPLANE_API or http://127.0.0.1:9180)")
    String api;

    @Option(names = "--token", description = "API token (default: $EDGEPLANE_TOKEN)")
    String token;

    @Option(names = "--json", description = "print the API's JSON instead of a table")
    boolean json;

    private String base()
    {
        String value = api != null ? api : System.getenv("EDGEPLANE_API");
        if (value == null || value.isEmpty())
        {
            value = "http://127.0.0.1:9180";
        }
        if (!value.contains("://"))
        {
            value = "http://" + value;
        }
        return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
    }

    /** The URL of {@code path} at the gateway; a --api that is no http(s) URL is a one-line error. */
    private URI uri(final String path)
    {
        final String base = base();
        final URI uri;
        try
        {
            uri = new URI(base + path);
        }
        catch (final URISyntaxException ex)
        {
            throw new Main.UserError("--api: not a URL: " + printable(base, 200) + " (" + ex.getReason() + ")");
        }
        if (uri.getHost() == null || !"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()))
        {
            throw new Main.UserError("--api: expected http://HOST:PORT or https://HOST:PORT, got " +
                printable(base, 200));
        }
        return uri;
    }

    /** The first line of {@code text}, at most {@code max} characters, control characters shown as '?'. */
    static String printable(final String text, final int max)
    {
        final String line = text.strip().lines().findFirst().orElse("");
        final StringBuilder out = new StringBuilder();
        for (int i = 0; i < line.length() && i < max; i++)
        {
            final char c = line.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        return line.length() > max || text.strip().lines().count() > 1 ? out + "..." : out.toString();
    }

    static String encode(final String value)
    {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /**
     * Perform a request; a non-2xx answer becomes a one-line {@link Main.UserError}. {@link HttpURLConnection}, not
     * {@code java.net.http.HttpClient}: building an HttpClient initializes TLS (the JSSE provider, the CA store) even
     * for an http:// URL, about half a second of every CLI verb; this one touches TLS only for https://.
     */
    String call(final String method, final String path, final JsonNode body)
    {
        final URI uri = uri(path);
        final int status;
        final String text;
        try
        {
            // As HttpClient did: the JVM's default proxy selector, no redirects followed, 3 s to connect and 10 s for
            // the answer, and a connection of its own (no kept-alive one that the JDK would silently retry a POST on).
            final HttpURLConnection connection = (HttpURLConnection)uri.toURL().openConnection();
            connection.setConnectTimeout(3_000);
            connection.setReadTimeout(10_000);
            connection.setInstanceFollowRedirects(false);
            connection.setUseCaches(false);
            connection.setRequestMethod(method);
            connection.setRequestProperty("Connection", "close");
            final String bearer = token != null ? token : System.getenv("EDGEPLANE_TOKEN");
            if (bearer != null)
            {
                connection.setRequestProperty("Authorization", "Bearer " + bearer);
            }
            if (body != null)
            {
                connection.setRequestProperty("Content-Type", "application/json");
                connection.setDoOutput(true);
                try (OutputStream out = connection.getOutputStream())
                {
                    out.write(body.toString().getBytes(StandardCharsets.UTF_8));
                }
            }
            status = connection.getResponseCode();
            try (InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream())
            {
                text = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            connection.disconnect();
        }
        catch (final IOException ex)
        {
            throw new Main.UserError("cannot reach the gateway at " + base() + " (" + ex.getClass().getSimpleName() +
                (ex.getMessage() == null ? "" : ": " + ex.getMessage()) + ")");
        }
        if (status / 100 != 2)
        {
            String message = null;
            try
            {
                final JsonNode error = MAPPER.readTree(text);
                if (error != null && error.has("error"))
                {
                    message = error.get("error").asText();
                }
            }
            catch (final IOException ignored)
            {
                // not JSON: not the gateway's answer
            }
            if (message == null)
            {
                // Something else answered (a proxy, another service on that port): say so, in one line.
                throw new Main.UserError(uri + ": HTTP " + status + " with " +
                    (text.isBlank() ? "an empty answer" : "'" + printable(text, 200) + "'") +
                    ", not the gateway's API (is --api right?)");
            }
            throw new Main.UserError(printable(message, 2000) + " (HTTP " + status + ")");
        }
        return text;
    }

    JsonNode callJson(final String method, final String path, final JsonNode body)
    {
        final String text = call(method, path, body);
        try
        {
            return MAPPER.readTree(text);
        }
        catch (final IOException ex)
        {
            throw new Main.UserError("the gateway answered something that is not JSON");
        }
    }

    /** Print {@code rows} as an aligned table with {@code columns} (field names). */
    static void table(final JsonNode rows, final String... columns)
    {
        final int[] widths = new int[columns.length];
        for (int c = 0; c < columns.length; c++)
        {
            widths[c] = columns[c].length();
            for (final JsonNode row : rows)
            {
                widths[c] = Math.max(widths[c], row.path(columns[c]).asText().length());
            }
        }
        final StringBuilder out = new StringBuilder();
        for (int c = 0; c < columns.length; c++)
        {
            out.append(String.format("%-" + (widths[c] + 2) + "s", columns[c]));
        }
        out.append('\n');
        for (final JsonNode row : rows)
        {
            for (int c = 0; c < columns.length; c++)
            {
                out.append(String.format("%-" + (widths[c] + 2) + "s", row.path(columns[c]).asText()));
            }
            out.append('\n');
        }
        System.out.print(out.toString().lines().map(String::stripTrailing).reduce("", (a, b) -> a + b + "\n"));
    }

    void print(final JsonNode node, final String... columns)
    {
        if (json)
        {
            System.out.println(node.toPrettyString());
        }
        else if (node.isArray())
        {
            table(node, columns);
        }
        else
        {
            final com.fasterxml.jackson.databind.node.ArrayNode rows = MAPPER.createArrayNode();
            rows.add(node);
            table(rows, columns);
        }
    }
}
