package io.edgeplane.control.api;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway started as a separate JVM ({@code edgeplane gateway}), optionally inside a network namespace, and an
 * HTTP client for its API. Stopped by SIGTERM or SIGKILL; always destroyed by {@link #close}.
 */
public final class GatewayProcess implements AutoCloseable
{
    private static final Pattern API = Pattern.compile("api (http://[0-9.]+:[0-9]+)");

    private final Process process;
    private final String base;
    private final List<String> output = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    public record Response(int status, String body)
    {
    }

    private GatewayProcess(final Process process, final String base)
    {
        this.process = process;
        this.base = base;
    }

    public static List<String> javaCommand()
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED");
        command.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24)
        {
            command.add("--enable-native-access=ALL-UNNAMED");
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.edgeplane.control.cli.Main");
        return command;
    }

    /**
     * Start {@code edgeplane gateway ARGS} (prefixed by {@code prefix}, e.g. {@code ip netns exec ns}) and wait
     * until it prints its API address.
     */
    public static GatewayProcess start(final List<String> prefix, final String... args)
        throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(prefix);
        command.addAll(javaCommand());
        command.add("gateway");
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
            StandardCharsets.UTF_8));
        final List<String> lines = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while (System.nanoTime() < deadline && (line = reader.readLine()) != null)
        {
            lines.add(line);
            final Matcher matcher = API.matcher(line);
            if (matcher.find())
            {
                final GatewayProcess gateway = new GatewayProcess(process, matcher.group(1));
                gateway.output.addAll(lines);
                final Thread drain = new Thread(() ->
                {
                    try
                    {
                        String more;
                        while ((more = reader.readLine()) != null)
                        {
                            synchronized (gateway.output)
                            {
                                gateway.output.add(more);
                            }
                        }
                    }
                    catch (final IOException ignored)
                    {
                        // process ended
                    }
                }, "gateway-output");
                drain.setDaemon(true);
                drain.start();
                return gateway;
            }
        }
        process.destroyForcibly();
        throw new IOException("gateway did not start: " + String.join("\n", lines));
    }

    public long pid()
    {
        return process.pid();
    }

    public String base()
    {
        return base;
    }

    public Response request(final String method, final String path, final String body)
        throws IOException, InterruptedException
    {
        return request(method, path, body, null);
    }

    public Response request(final String method, final String path, final String body, final String token)
        throws IOException, InterruptedException
    {
        final HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() :
                HttpRequest.BodyPublishers.ofString(body));
        if (token != null)
        {
            builder.header("Authorization", "Bearer " + token);
        }
        final HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(response.statusCode(), response.body());
    }

    public void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
    }

    /** SIGTERM, then wait for a graceful stop. */
    public int terminate() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
        }
        return process.exitValue();
    }

    public String output()
    {
        synchronized (output)
        {
            return String.join("\n", output);
        }
    }

    @Override
    public void close()
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
        }
    }
}
