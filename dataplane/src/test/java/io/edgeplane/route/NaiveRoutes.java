package io.edgeplane.route;

import io.edgeplane.port.PortTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The reference the FIB is checked against: every route in a list per (length, prefix); a lookup tries lengths
 * 32 down to 0 and, at the first length with a usable route, takes the lowest metric and all routes sharing it.
 * Written for obviousness, not speed.
 */
final class NaiveRoutes
{
    static final int LOCAL = -2;
    static final int BROADCAST = -3;

    record Route(int port, int prefix, int length, int nextHop, int metric, int type)
    {
    }

    private final Map<Long, List<Route>> byPrefix = new HashMap<>();
    private final PortTable ports;

    NaiveRoutes(final PortTable ports)
    {
        this.ports = ports;
        if (ports != null)
        {
            for (int p = 0; p < ports.count(); p++)
            {
                final int len = ports.prefixLength(p);
                final int mask = len == 0 ? 0 : -1 << (32 - len);
                final int subnet = ports.address(p) & mask;
                list(subnet, len).add(new Route(p, subnet, len, 0, 0, 0));
                list(ports.address(p), 32).add(new Route(p, ports.address(p), 32, 0, -2, LOCAL));
                if (len < 31)
                {
                    list(subnet | ~mask, 32).add(new Route(p, subnet | ~mask, 32, 0, -2, BROADCAST));
                    list(subnet, 32).add(new Route(p, subnet, 32, 0, -2, BROADCAST));
                }
            }
        }
    }

    private static long key(final int prefix, final int length)
    {
        return (long)length << 32 | (prefix & 0xFFFF_FFFFL);
    }

    private List<Route> list(final int prefix, final int length)
    {
        return byPrefix.computeIfAbsent(key(prefix, length), k -> new ArrayList<>());
    }

    /** Add or replace the user route with the same (port, prefix, length). */
    void add(final int port, final int prefix, final int length, final int nextHop, final int metric)
    {
        remove(port, prefix, length);
        list(prefix, length).add(new Route(port, prefix, length, nextHop, metric, 0));
    }

    boolean remove(final int port, final int prefix, final int length)
    {
        final List<Route> routes = byPrefix.get(key(prefix, length));
        return routes != null &&
            routes.removeIf(r -> r.port() == port && r.type() == 0 && r.metric() > 0);
    }

    /** @return "-" for no route, "local", "broadcast", or the sorted set of "port/gateway" members. */
    String lookup(final int address)
    {
        for (int length = 32; length >= 0; length--)
        {
            final int mask = length == 0 ? 0 : -1 << (32 - length);
            final List<Route> routes = byPrefix.get(key(address & mask, length));
            if (routes == null)
            {
                continue;
            }
            int best = Integer.MAX_VALUE;
            for (final Route r : routes)
            {
                if (usable(r))
                {
                    best = Math.min(best, r.metric());
                }
            }
            if (best == Integer.MAX_VALUE)
            {
                continue;
            }
            final TreeSet<String> members = new TreeSet<>();
            for (final Route r : routes)
            {
                if (usable(r) && r.metric() == best)
                {
                    if (r.type() == LOCAL)
                    {
                        return "local";
                    }
                    if (r.type() == BROADCAST)
                    {
                        return "broadcast";
                    }
                    members.add(r.port() + "/" + r.nextHop());
                }
            }
            return String.join(",", members);
        }
        return "-";
    }

    private boolean usable(final Route r)
    {
        return ports == null || r.type() != 0 || ports.adminUp(r.port());
    }

    /** The same rendering of what the FIB answers. */
    static String describe(final FibTables fib, final int address)
    {
        final int group = fib.lookup(address);
        if (group == FibTables.NO_ROUTE)
        {
            return "-";
        }
        if (fib.kind(group) == FibTables.KIND_LOCAL)
        {
            return "local";
        }
        if (fib.kind(group) == FibTables.KIND_BROADCAST)
        {
            return "broadcast";
        }
        final TreeSet<String> members = new TreeSet<>();
        final int size = fib.memberCount(group);
        for (int i = 0; i < size; i++)
        {
            final int adjacency = fib.adjacencyAt(group, i);
            members.add(fib.adjacencyPort(adjacency) + "/" + fib.adjacencyNextHop(adjacency));
        }
        return String.join(",", members);
    }
}
