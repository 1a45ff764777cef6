package io.edgeplane.control.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import io.edgeplane.config.NeighborConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ResourceHandler;
import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static neighbors ({@code /v1/neighbors}): the worker's neighbor table is changed first (through the
 * {@link WorkerProxy}), and only when it confirmed is the entry kept here, so a worker that does not answer leaves
 * nothing half-applied. GET lists learned entries too, marked {@code "static": false}.
 */
public final class NeighborResource implements ResourceHandler<NeighborConfig, NeighborConfig.Key>
{
    private final PortTable ports;
    private final WorkerProxy worker;
    private final Map<NeighborConfig.Key, NeighborConfig> statics = new LinkedHashMap<>();

    public NeighborResource(final PortTable ports, final WorkerProxy worker, final List<NeighborConfig> configured)
    {
        this.ports = ports;
        this.worker = worker;
        configured.forEach(n -> statics.put(n.key(), n));
    }

    @Override
    public String name()
    {
        return "neighbors";
    }

    @Override
    public String addOp()
    {
        return "neighbor-add";
    }

    @Override
    public String removeOp()
    {
        return "neighbor-remove";
    }

    @Override
    public Class<NeighborConfig> recordType()
    {
        return NeighborConfig.class;
    }

    @Override
    public Class<NeighborConfig.Key> keyType()
    {
        return NeighborConfig.Key.class;
    }

    @Override
    public Change add(final NeighborConfig neighbor) throws ApiException
    {
        try
        {
            neighbor.check(ports);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage());
        }
        final NeighborConfig previous = statics.get(neighbor.key());
        worker.addStaticNeighbor(ports.indexOf(neighbor.interfaceName()), neighbor.address(), neighbor.mac(),
            neighbor.vtep());
        statics.put(neighbor.key(), neighbor);
        final ObjectNode answer = Json.STRICT.valueToTree(neighbor);
        answer.put("static", true);
        return new Change(answer, previous != null, () -> restore(neighbor.key(), previous));
    }

    @Override
    public NeighborConfig.Key keyOf(final NeighborConfig record)
    {
        return record.key();
    }

    @Override
    public Change remove(final NeighborConfig.Key key) throws ApiException
    {
        final int port = ports.indexOf(key.interfaceName());
        if (port < 0)
        {
            throw ApiException.badRequest("interface", "interface: unknown interface " + key.interfaceName());
        }
        if (!worker.removeNeighbor(port, key.address()))
        {
            throw new ApiException(404, "ip", "no neighbor " + Ipv4Address.format(key.address()) + " on " +
                key.interfaceName());
        }
        final NeighborConfig previous = statics.remove(key);
        return new Change(Json.STRICT.createObjectNode().put("removed", Ipv4Address.format(key.address())), true,
            () -> restore(key, previous));
    }

    private void restore(final NeighborConfig.Key key, final NeighborConfig previous)
    {
        final int port = ports.indexOf(key.interfaceName());
        if (previous == null)
        {
            worker.removeNeighbor(port, key.address());
            statics.remove(key);
        }
        else
        {
            worker.addStaticNeighbor(port, key.address(), previous.mac(), previous.vtep());
            statics.put(key, previous);
        }
    }

    @Override
    public List<NeighborConfig> list()
    {
        return List.copyOf(statics.values());
    }

    /** What {@link #view} adds: a POST of a listed neighbor makes it static whatever it was. */
    @Override
    public java.util.Set<String> readOnlyFields()
    {
        return java.util.Set.of("static");
    }

    @Override
    public List<Map<String, Object>> view()
    {
        final List<Map<String, Object>> out = new ArrayList<>();
        for (final WorkerProxy.Neighbor n : worker.neighbors())
        {
            final Map<String, Object> json = new NeighborConfig(ports.name(n.port()), n.ip(), n.mac(), n.vtep())
                .json();
            json.put("static", n.isStatic());
            out.add(json);
        }
        out.sort(Comparator.comparing((Map<String, Object> m) -> (String)m.get("interface"))
            .thenComparingLong(m -> Ipv4Address.parse((String)m.get("ip")) & 0xFFFF_FFFFL));
        return out;
    }

    @Override
    public void restore(final JsonNode section) throws ApiException
    {
        final NeighborConfig[] saved;
        try
        {
            saved = Json.bind(section, NeighborConfig[].class);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage());
        }
        for (final NeighborConfig.Key key : List.copyOf(statics.keySet()))
        {
            worker.removeNeighbor(ports.indexOf(key.interfaceName()), key.address());
        }
        statics.clear();
        for (final NeighborConfig n : saved)
        {
            add(n);
        }
    }
}
