package io.edgeplane.control.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands on the host and in network namespaces this test created, and removes what it created by name.
 * Every command has a time limit.
 */
final class Netns
{
    record Result(int exit, String output)
    {
    }

    private final List<String> namespaces = new ArrayList<>();

    static boolean available()
    {
        try
        {
            return "0".equals(run(5, "id", "-u").output().strip()) && run(5, "ip", "netns", "list").exit() == 0;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    static Result run(final int seconds, final String... command) throws IOException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try
        {
            if (!process.waitFor(seconds, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                return new Result(-1, new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8) +
                    "\n(timed out after " + seconds + " s: " + String.join(" ", command) + ")");
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted", ex);
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(),
            StandardCharsets.UTF_8));
    }

    static void must(final String... command) throws IOException
    {
        final Result result = run(30, command);
        if (result.exit() != 0)
        {
            throw new IOException(String.join(" ", command) + " failed: " + result.output());
        }
    }

    void add(final String name) throws IOException
    {
        run(10, "ip", "netns", "del", name);
        must("ip", "netns", "add", name);
        namespaces.add(name);
        must("ip", "-n", name, "link", "set", "lo", "up");
    }

    /**
     * A veth pair between a host namespace and the gateway's: the host end up with {@code address}, the gateway end
     * up with {@code gatewayMac} and no IPv6 (the gateway process owns it; the kernel must not chatter on it).
     */
    static void veth(final String gatewayNs, final String ns, final String hostEnd, final String address,
        final String gatewayEnd, final String gatewayMac) throws IOException
    {
        must("ip", "link", "add", hostEnd, "netns", ns, "type", "veth", "peer", "name", gatewayEnd, "netns",
            gatewayNs);
        must("ip", "-n", ns, "addr", "add", address, "dev", hostEnd);
        must("ip", "-n", ns, "link", "set", hostEnd, "up");
        mustExec(gatewayNs, "sysctl", "-qw", "net.ipv6.conf." + gatewayEnd + ".disable_ipv6=1");
        must("ip", "-n", gatewayNs, "link", "set", gatewayEnd, "address", gatewayMac);
        must("ip", "-n", gatewayNs, "link", "set", gatewayEnd, "up");
    }

    static Result exec(final int seconds, final String namespace, final String... command) throws IOException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        return run(seconds, full.toArray(String[]::new));
    }

    static void mustExec(final String namespace, final String... command) throws IOException
    {
        final Result result = exec(30, namespace, command);
        if (result.exit() != 0)
        {
            throw new IOException(namespace + ": " + String.join(" ", command) + " failed: " + result.output());
        }
    }

    /** Remove every namespace this instance created (their veths go with them). */
    void cleanUp()
    {
        for (final String name : namespaces)
        {
            try
            {
                run(10, "ip", "netns", "pids", name).output().lines().forEach(pid -> quietly("kill", "-9", pid));
                run(10, "ip", "netns", "del", name);
            }
            catch (final IOException ignored)
            {
                // best effort: the next run deletes by name before creating
            }
        }
        namespaces.clear();
    }

    private static void quietly(final String... command)
    {
        try
        {
            run(5, command);
        }
        catch (final IOException ignored)
        {
            // already gone
        }
    }
}
