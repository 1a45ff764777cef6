package io.edgeplane.route;

import io.edgeplane.config.RouteConfig;
import io.edgeplane.config.TextFiles;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The plain route file for big tables: one route per line, {@code prefix/len nexthop [metric]} (metric defaults to
 * 100), {@code #} starts a comment. With ports, each route's interface is the port whose connected subnet holds
 * the next hop, and routes are keyed by (interface, prefix) as everywhere. Without ports, routes are taken as given:
 * every distinct next hop acts as its own interface, so two lines for one prefix via different next hops are two
 * routes (metric decides, or ECMP), and a repeated (prefix, next hop) replaces the earlier line.
 * Errors name the file and line.
 */
public final class RouteFile
{
    public static final int DEFAULT_METRIC = 100;
    /** The longest line read: a route is a few dozen characters, a comment may say more. */
    public static final int MAX_LINE = 4096;

    private RouteFile()
    {
    }

    /** Routes and, in the same order, the port index of each (a per-next-hop index when there are no ports). */
    public record Loaded(List<RouteConfig> routes, List<Integer> ports)
    {
    }

    public static Loaded read(final Path path, final PortTable ports) throws RouteException
    {
        final List<RouteConfig> routes = new ArrayList<>();
        final List<Integer> portIndexes = new ArrayList<>();
        final java.util.Map<Integer, Integer> nextHopInterfaces = new java.util.HashMap<>();
        try (TextFiles.Lines lines = TextFiles.lines(path, MAX_LINE))
        {
            String line;
            while ((line = lines.next()) != null)
            {
                final int number = lines.number();
                final int hash = line.indexOf('#');
                final String text = (hash >= 0 ? line.substring(0, hash) : line).trim();
                if (text.isEmpty())
                {
                    continue;
                }
                try
                {
                    parseLine(text, ports, routes, portIndexes, nextHopInterfaces);
                }
                catch (final IllegalArgumentException | RouteException ex)
                {
                    throw new RouteException(path + ":" + number + ": " + ex.getMessage());
                }
            }
        }
        catch (final NoSuchFileException ex)
        {
            throw new RouteException(path + ": no such file");
        }
        catch (final TextFiles.TooLongException ex)
        {
            throw new RouteException(path + ": " + ex.getMessage() + ", not a route file");
        }
        catch (final CharacterCodingException ex)
        {
            throw new RouteException(path + ": not UTF-8 text");
        }
        catch (final IOException ex)
        {
            throw new RouteException(path + ": cannot read (" + ex.getMessage() + ")");
        }
        return new Loaded(routes, portIndexes);
    }

    private static void parseLine(final String text, final PortTable ports, final List<RouteConfig> routes,
        final List<Integer> portIndexes, final java.util.Map<Integer, Integer> nextHopInterfaces)
        throws RouteException
    {
        final String[] fields = text.split("\\s+");
        if (fields.length < 2 || fields.length > 3)
        {
            throw new RouteException("expected 'prefix/len nexthop [metric]', got '" + text + "'");
        }
        final int slash = fields[0].indexOf('/');
        if (slash < 0)
        {
            throw new RouteException("expected prefix/len, got " + fields[0]);
        }
        final int prefix = Ipv4Address.parse(fields[0].substring(0, slash));
        final String lengthText = fields[0].substring(slash + 1);
        if (lengthText.isEmpty() || lengthText.length() > 2 || !lengthText.chars().allMatch(Character::isDigit))
        {
            throw new RouteException("bad prefix length in " + fields[0]);
        }
        final int length = Integer.parseInt(lengthText);
        if (length > 32)
        {
            throw new RouteException("prefix length " + length + " not in 0..32");
        }
        if ((prefix & ~Ipv4Address.mask(length)) != 0)
        {
            throw new RouteException("host bits set in " + fields[0]);
        }
        final int nextHop = Ipv4Address.parse(fields[1]);
        int metric = DEFAULT_METRIC;
        if (fields.length == 3)
        {
            try
            {
                metric = Integer.parseInt(fields[2]);
            }
            catch (final NumberFormatException ex)
            {
                throw new RouteException("bad metric " + fields[2]);
            }
        }
        int port;
        String name = "-";
        if (ports == null)
        {
            port = nextHopInterfaces.computeIfAbsent(nextHop, k -> nextHopInterfaces.size());
        }
        else
        {
            port = ports.connectedPortFor(nextHop);
            if (port < 0)
            {
                throw new RouteException("next hop " + fields[1] + " is not in any port's subnet");
            }
            name = ports.name(port);
        }
        routes.add(new RouteConfig(name, prefix, length, nextHop, metric));
        portIndexes.add(port);
    }
}
