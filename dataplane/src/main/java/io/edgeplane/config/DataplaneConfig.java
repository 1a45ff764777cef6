package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration of the box, in the config file's JSON shape (which is also the snapshot's and
 * {@code GET /v1/config}'s). Immutable; a change produces a new instance. Bound by {@link ConfigLoader}, which adds
 * the checks across resources.
 *
 * @param ports     the ports, in order; the index in this list is the port id used on the hot path.
 * @param routes    static routes.
 * @param neighbors static neighbor entries.
 * @param flowHashSeed seed of the flow hash (ECMP choice); the same seed gives the same choices everywhere.
 * @param nat       masquerade of the internal switch, or null for none.
 * @param serviceNetwork the service address ranges, or null.
 * @param services  Kubernetes services served by load-balancer DNAT.
 * @param workers   worker threads (each with its own pool, counters and connection table), or 0 for the default:
 *                  the gateway runs one per available core minus one (at least one), replay and bench one.
 */
public record DataplaneConfig(List<PortConfig> ports, List<RouteConfig> routes, List<NeighborConfig> neighbors,
    int flowHashSeed, NatConfig nat, ServiceNetworkConfig serviceNetwork, List<ServiceConfig> services, int workers)
{
    /** Workers a config may ask for (NAT's port range is sliced per worker; 64 leaves each at least 1,000 ports). */
    public static final int MAX_WORKERS = 64;

    public DataplaneConfig(final List<PortConfig> ports, final List<RouteConfig> routes,
        final List<NeighborConfig> neighbors, final int flowHashSeed, final NatConfig nat,
        final ServiceNetworkConfig serviceNetwork, final List<ServiceConfig> services)
    {
        this(ports, routes, neighbors, flowHashSeed, nat, serviceNetwork, services, 0);
    }

    public DataplaneConfig
    {
        ports = List.copyOf(ports);
        routes = List.copyOf(routes);
        neighbors = List.copyOf(neighbors);
        services = List.copyOf(services);
    }

    public DataplaneConfig(final List<PortConfig> ports, final List<RouteConfig> routes,
        final List<NeighborConfig> neighbors, final int flowHashSeed, final NatConfig nat)
    {
        this(ports, routes, neighbors, flowHashSeed, nat, null, List.of());
    }

    @JsonCreator
    static DataplaneConfig fromJson(@JsonProperty("ports") final List<PortConfig> ports,
        @JsonProperty("routes") final List<RouteConfig> routes,
        @JsonProperty("neighbors") final List<NeighborConfig> neighbors,
        @JsonProperty("flowHashSeed") final Integer flowHashSeed,
        @JsonProperty("nat") @JsonDeserialize(using = Lazily.class) final NatConfig nat,
        @JsonProperty("serviceNetwork") @JsonDeserialize(using = Lazily.class)
        final ServiceNetworkConfig serviceNetwork,
        @JsonProperty("services") @JsonDeserialize(using = Lazily.class) final List<ServiceConfig> services,
        @JsonProperty("workers") final Integer workers)
    {
        if (ports == null || ports.isEmpty())
        {
            throw new IllegalArgumentException("ports: must be a non-empty array");
        }
        if (workers != null && (workers < 1 || workers > MAX_WORKERS))
        {
            throw new IllegalArgumentException("workers: " + workers + " is not between 1 and " + MAX_WORKERS);
        }
        return new DataplaneConfig(ports, routes == null ? List.of() : routes,
            neighbors == null ? List.of() : neighbors, flowHashSeed == null ? 0 : flowHashSeed, nat, serviceNetwork,
            services == null ? List.of() : services, workers == null ? 0 : workers);
    }

    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("ports", ports);
        json.put("routes", routes);
        json.put("neighbors", neighbors);
        json.put("flowHashSeed", flowHashSeed);
        if (nat != null)
        {
            json.put("nat", nat);
        }
        if (serviceNetwork != null)
        {
            json.put("serviceNetwork", serviceNetwork);
        }
        if (!services.isEmpty())
        {
            json.put("services", services);
        }
        if (workers != 0)
        {
            json.put("workers", workers);
        }
        return json;
    }

    /** The same config with {@code more} routes after its own (e.g. from a route file). */
    public DataplaneConfig withRoutes(final List<RouteConfig> more)
    {
        final List<RouteConfig> all = new ArrayList<>(routes);
        all.addAll(more);
        return new DataplaneConfig(ports, all, neighbors, flowHashSeed, nat, serviceNetwork, services, workers);
    }

    /** The same config with another {@code nat} section (null for none). */
    public DataplaneConfig withNat(final NatConfig nat)
    {
        return new DataplaneConfig(ports, routes, neighbors, flowHashSeed, nat, serviceNetwork, services, workers);
    }

    /** The same config with other services (already allocated and checked). */
    public DataplaneConfig withServices(final List<ServiceConfig> services)
    {
        return new DataplaneConfig(ports, routes, neighbors, flowHashSeed, nat, serviceNetwork, services, workers);
    }

    /** The same config with another {@code workers} (0: the default). */
    public DataplaneConfig withWorkers(final int workers)
    {
        return new DataplaneConfig(ports, routes, neighbors, flowHashSeed, nat, serviceNetwork, services, workers);
    }

    /** The workers to run: the configured number, or {@code fallback} when the config leaves it open. */
    public int workersOr(final int fallback)
    {
        return workers != 0 ? workers : fallback;
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
