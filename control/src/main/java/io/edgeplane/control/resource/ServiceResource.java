package io.edgeplane.control.resource;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.Json;
import io.edgeplane.config.ServiceConfig;
import io.edgeplane.config.ServiceNetworkConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ResourceHandler;
import io.edgeplane.port.PortTable;
import io.edgeplane.stage.Dataplane;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kubernetes services ({@code /v1/services}): POST adds or replaces a service by name, DELETE {@code ?name=}
 * removes it, {@code PUT /v1/services/{name}/backends {"backends": [...]}} replaces its backend set (the Endpoints
 * update). Every change is checked and allocated against the whole set (names, frontends served twice, the external
 * range, node ports), the Maglev tables rebuilt off the worker and published at once. A replaced service keeps the
 * cluster IP, VIP and node ports it had unless the new record names others, so addresses given out stay given out;
 * the snapshot holds them as allocated.
 */
public final class ServiceResource implements ResourceHandler<ServiceConfig, ServiceResource.Key>
{
    private final Dataplane dataplane;
    private final PortTable ports;
    private final ServiceNetworkConfig network;
    private List<ServiceConfig> services;
    private final int flowHashSeed;

    /** A service's key: its name. */
    public record Key(String name)
    {
        @JsonCreator
        public static Key fromJson(@JsonProperty("name") final String name)
        {
            return new Key(Json.required(name, "name"));
        }

        @JsonValue
        public Map<String, Object> json()
        {
            return Map.of("name", name);
        }
    }

    public ServiceResource(final Dataplane dataplane, final PortTable ports, final ServiceNetworkConfig network,
        final List<ServiceConfig> configured)
    {
        this(dataplane, ports, network, configured, 0);
    }

    /** @param flowHashSeed the dataplane's flow hash seed (for {@code GET /v1/services/backend}). */
    public ServiceResource(final Dataplane dataplane, final PortTable ports, final ServiceNetworkConfig network,
        final List<ServiceConfig> configured, final int flowHashSeed)
    {
        this.flowHashSeed = flowHashSeed;
        this.dataplane = dataplane;
        this.ports = ports;
        this.network = network;
        this.services = List.copyOf(configured);
    }

    @Override
    public String name()
    {
        return "services";
    }

    @Override
    public String addOp()
    {
        return "service-set";
    }

    @Override
    public String removeOp()
    {
        return "service-remove";
    }

    @Override
    public Class<ServiceConfig> recordType()
    {
        return ServiceConfig.class;
    }

    @Override
    public Class<Key> keyType()
    {
        return Key.class;
    }

    private int indexOf(final String name)
    {
        for (int i = 0; i < services.size(); i++)
        {
            if (services.get(i).name().equals(name))
            {
                return i;
            }
        }
        return -1;
    }

    @Override
    public Change add(final ServiceConfig service) throws ApiException
    {
        final int at = indexOf(service.name());
        final List<ServiceConfig> next = new ArrayList<>(services);
        if (at >= 0)
        {
            next.set(at, keepAllocated(services.get(at), service));
        }
        else
        {
            next.add(service);
        }
        final List<ServiceConfig> previous = services;
        apply(next);
        final ServiceConfig applied = services.get(at >= 0 ? at : services.size() - 1);
        return new Change(applied, at >= 0, () -> restore(previous));
    }

    /** A replacement keeps what was allocated to the service when it does not name something else. */
    private static ServiceConfig keepAllocated(final ServiceConfig old, final ServiceConfig fresh)
    {
        final List<ServiceConfig.Port> ports = new ArrayList<>();
        for (final ServiceConfig.Port port : fresh.ports())
        {
            int nodePort = port.nodePort();
            for (final ServiceConfig.Port before : old.ports())
            {
                if (nodePort == 0 && fresh.allocatesNodePorts() && before.protocol() == port.protocol() &&
                    before.port() == port.port())
                {
                    nodePort = before.nodePort();
                }
            }
            ports.add(new ServiceConfig.Port(port.name(), port.protocol(), port.port(), port.targetPort(), nodePort));
        }
        return new ServiceConfig(fresh.name(), fresh.type(), fresh.clusterIp() != 0 ? fresh.clusterIp() :
            old.clusterIp(), fresh.loadBalancerIp() != 0 || !fresh.loadBalancer() ? fresh.loadBalancerIp() :
            old.loadBalancerIp(), ports, fresh.sessionAffinity(), fresh.affinityTimeoutSeconds(), fresh.backends(),
            fresh.allocateLoadBalancerNodePorts());
    }

    private void apply(final List<ServiceConfig> next) throws ApiException
    {
        final List<ServiceConfig> allocated;
        try
        {
            final java.util.Set<Integer> vips = new java.util.HashSet<>();
            services.forEach(service -> vips.add(service.loadBalancerIp()));
            vips.remove(0);
            allocated = ConfigLoader.allocateServices(network, next, ports, vips);
            dataplane.configureServices(network, allocated);
        }
        catch (final ConfigException ex)
        {
            throw new ApiException(ex.getMessage().contains("exhausted") ? 409 : 400, ex.field(),
                ex.getMessage().replaceFirst("^services\\[\\d+]\\.", ""));
        }
        services = allocated;
    }

    private void restore(final List<ServiceConfig> previous)
    {
        try
        {
            dataplane.configureServices(network, previous);
            services = previous;
        }
        catch (final ConfigException ex)
        {
            throw new IllegalStateException("could not restore the services: " + ex.getMessage(), ex);
        }
    }

    @Override
    public Key keyOf(final ServiceConfig record)
    {
        return new Key(record.name());
    }

    /** Many services at once with one allocation and one table build (a Kubernetes resync of thousands). */
    @Override
    public Change addAll(final List<ServiceConfig> records, final List<Key> removals) throws ApiException
    {
        final List<ServiceConfig> next = new ArrayList<>(services);
        for (final Key key : removals)
        {
            next.removeIf(service -> service.name().equals(key.name()));
        }
        final Map<String, Integer> at = new java.util.HashMap<>();
        for (int i = 0; i < next.size(); i++)
        {
            at.put(next.get(i).name(), i);
        }
        for (final ServiceConfig service : records)
        {
            final Integer i = at.get(service.name());
            if (i != null)
            {
                next.set(i, keepAllocated(next.get(i), service));
            }
            else
            {
                at.put(service.name(), next.size());
                next.add(service);
            }
        }
        final List<ServiceConfig> previous = services;
        apply(next);
        return new Change(null, false, () -> restore(previous));
    }

    /** The service of that name as it is applied (with what was allocated to it), or null. */
    public ServiceConfig find(final String name)
    {
        final int at = indexOf(name);
        return at < 0 ? null : services.get(at);
    }

    @Override
    public Change remove(final Key key) throws ApiException
    {
        final int at = indexOf(key.name());
        if (at < 0)
        {
            throw new ApiException(404, "name", "no service " + key.name());
        }
        final List<ServiceConfig> previous = services;
        final List<ServiceConfig> next = new ArrayList<>(services);
        next.remove(at);
        apply(next);
        return new Change(Map.of("removed", key.name()), true, () -> restore(previous));
    }

    /**
     * {@code GET /v1/services/backend?address=&protocol=&port=&source=&sourcePort=}: the service a new flow to that
     * frontend meets and the backend Maglev picks for it, from the tables the worker uses (the same flow hash as the
     * packet path). It answers what a new flow would get; an existing flow keeps its session's backend.
     */
    @Override
    public JsonNode get(final String part, final Map<String, String> query) throws ApiException
    {
        if (!"backend".equals(part))
        {
            return ResourceHandler.super.get(part, query);
        }
        final int address = address(query, "address");
        final int source = address(query, "source");
        final String protocolText = query.getOrDefault("protocol", "tcp").toLowerCase(java.util.Locale.ROOT);
        final int protocol = switch (protocolText)
        {
            case "tcp" -> 6;
            case "udp" -> 17;
            default -> throw ApiException.badRequest("protocol", "protocol: tcp or udp, not " + protocolText);
        };
        final int port = number(query, "port");
        final int sourcePort = number(query, "sourcePort");
        final io.edgeplane.lb.ServiceTable table = dataplane.services().table();
        final int frontend = table.lookup(protocol, address, port);
        if (frontend < 0)
        {
            throw new ApiException(404, "address", "no service at " + io.edgeplane.proto.Ipv4Address.format(address) +
                ":" + port + "/" + protocolText);
        }
        final ObjectNode answer = Json.STRICT.createObjectNode();
        answer.put("service", table.name(table.service(frontend)));
        answer.put("targetPort", table.targetPort(frontend));
        if (table.readyCount(frontend) == 0)
        {
            answer.putNull("backend");
            return answer;
        }
        final int hash = io.edgeplane.stage.FlowHash.hash(flowHashSeed, source, address, protocol,
            sourcePort << 16 | port);
        answer.put("backend", io.edgeplane.proto.Ipv4Address.format(table.backend(frontend, hash)));
        return answer;
    }

    private static int address(final Map<String, String> query, final String field) throws ApiException
    {
        try
        {
            return io.edgeplane.config.Fields.address(query.get(field), field);
        }
        catch (final IllegalArgumentException ex)
        {
            throw ApiException.badRequest(field, ex.getMessage());
        }
    }

    private static int number(final Map<String, String> query, final String field) throws ApiException
    {
        try
        {
            final int value = Integer.parseInt(query.getOrDefault(field, ""));
            if (value >= 1 && value <= 65535)
            {
                return value;
            }
        }
        catch (final NumberFormatException ignored)
        {
            // answered below
        }
        throw ApiException.badRequest(field, field + ": a port 1..65535, not '" + query.get(field) + "'");
    }

    /** {@code PUT /v1/services/{name}/backends}: the whole service with the new backend set. */
    @Override
    public JsonNode merge(final String id, final String part, final JsonNode body) throws ApiException
    {
        if (!"backends".equals(part))
        {
            return ResourceHandler.super.merge(id, part, body);
        }
        final int at = indexOf(id);
        if (at < 0)
        {
            throw new ApiException(404, "name", "no service " + id);
        }
        if (body == null || !body.isObject() || !body.path("backends").isArray() || body.size() != 1)
        {
            throw ApiException.badRequest("backends", "backends: the body must be {\"backends\": [...]}");
        }
        final ObjectNode merged = Json.STRICT.valueToTree(services.get(at));
        merged.set("backends", body.get("backends"));
        return merged;
    }

    @Override
    public List<?> list()
    {
        return services;
    }

    @Override
    public Map<String, Object> fixedSections()
    {
        return network == null ? Map.of() : Map.of("serviceNetwork", network);
    }

    @Override
    public void restore(final JsonNode section) throws ApiException
    {
        final List<ServiceConfig> restored = new ArrayList<>();
        if (!section.isArray())
        {
            throw ApiException.badRequest(null, "services: not an array");
        }
        for (final JsonNode node : section)
        {
            try
            {
                restored.add(Json.bind(node, ServiceConfig.class));
            }
            catch (final ConfigException ex)
            {
                throw ApiException.badRequest(ex.field(), ex.getMessage());
            }
        }
        apply(restored);
    }
}
