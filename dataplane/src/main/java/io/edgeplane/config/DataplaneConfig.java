package io.edgeplane.config;

import java.util.List;

/**
 * The whole configuration of the box. Immutable; a change produces a new instance.
 *
 * @param ports     the ports, in order; the index in this list is the port id used on the hot path.
 * @param routes    static routes.
 * @param neighbors static neighbor entries.
 * @param flowHashSeed seed of the flow hash (ECMP choice); the same seed gives the same choices everywhere.
 */
public record DataplaneConfig(List<PortConfig> ports, List<RouteConfig> routes, List<NeighborConfig> neighbors,
    int flowHashSeed)
{
    public DataplaneConfig
    {
        ports = List.copyOf(ports);
        routes = List.copyOf(routes);
        neighbors = List.copyOf(neighbors);
    }

    /** The same config with {@code more} routes after its own (e.g. from a route file). */
    public DataplaneConfig withRoutes(final List<RouteConfig> more)
    {
        final java.util.ArrayList<RouteConfig> all = new java.util.ArrayList<>(routes);
        all.addAll(more);
        return new DataplaneConfig(ports, all, neighbors, flowHashSeed);
    }

    /** @return the port index of that name, or -1. */
    public int portIndex(final String name)
    {
        for (int i = 0; i < ports.size(); i++)
        {
            if (ports.get(i).name().equals(name))
            {
                return i;
            }
        }
        return -1;
    }
}
