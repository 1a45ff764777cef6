package io.edgeplane.bench;

import io.edgeplane.config.RouteConfig;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Shared set-up of the benchmarks: generated tables loaded into a routing table, and key sets. */
final class BenchTables
{
    private BenchTables()
    {
    }

    /**
     * @param ports null for an offline table (each next hop its own interface), or the ports whose subnets hold
     *              the generated next hops.
     */
    static RoutingTable load(final List<RouteTableGenerator.GeneratedRoute> generated, final PortTable ports)
    {
        final List<RouteConfig> routes = new ArrayList<>(generated.size());
        final List<Integer> portIndexes = new ArrayList<>(generated.size());
        for (final RouteTableGenerator.GeneratedRoute r : generated)
        {
            final int port = ports == null ? (r.nextHop() & 0xFF) : ports.connectedPortFor(r.nextHop());
            routes.add(new RouteConfig(ports == null ? "-" : ports.name(port), r.prefix(), r.length(), r.nextHop(),
                r.metric()));
            portIndexes.add(port);
        }
        final RoutingTable table = new RoutingTable(ports, routes.size() + 100_000, 1 << 16);
        try
        {
            table.addAll(routes, portIndexes);
        }
        catch (final RouteException ex)
        {
            throw new IllegalStateException(ex);
        }
        return table;
    }

    /** Keys uniformly random over all 2^32 ("random"), or random hosts inside installed prefixes ("installed"). */
    static int[] keys(final List<RouteTableGenerator.GeneratedRoute> routes, final String kind, final int count,
        final long seed)
    {
        final Random random = new Random(seed);
        final int[] keys = new int[count];
        for (int i = 0; i < count; i++)
        {
            if ("random".equals(kind))
            {
                keys[i] = random.nextInt();
            }
            else
            {
                final RouteTableGenerator.GeneratedRoute r = routes.get(random.nextInt(routes.size()));
                final int hostMask = r.length() == 0 ? -1 : ~(-1 << (32 - r.length()));
                keys[i] = r.prefix() | (random.nextInt() & hostMask);
            }
        }
        return keys;
    }
}
