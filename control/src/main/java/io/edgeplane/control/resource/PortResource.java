package io.edgeplane.control.resource;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.Json;
import io.edgeplane.config.PortConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ResourceHandler;
import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.counters.CounterGroup;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.stage.FeatureArc;
import io.edgeplane.stage.NatStage;
import io.edgeplane.stage.VxlanDecapStage;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;

/**
 * Ports ({@code /v1/ports}). The config file defines the ports on wires; at run time their administrative state is
 * set ({@code PUT /v1/ports/{name} {"adminUp": false}}: an atomic flag the worker reads, then the routes through the
 * port are re-evaluated, i.e. failover), and tunnel ports are added ({@code POST} a {@code "type": "vxlan"} port,
 * validated like the config file's) and removed ({@code DELETE ?name=}, once no route or static neighbor uses them).
 * GET shows each port with its counters, its device's link state and its effective MTU.
 */
public final class PortResource implements ResourceHandler<PortResource.PortChange, PortResource.PortKey>
{
    private final List<PortConfig> current;
    private final PortTable ports;
    private final RoutingTable routes;
    private final CounterGroup counters;
    private final AtomicLongArray portStats;
    private final IntFunction<String> link;
    private final FeatureArc unicast;
    private final WorkerProxy worker;

    /**
     * A change to a port: its administrative state ({@code {"name", "adminUp"}}), or a whole tunnel port to add.
     */
    public record PortChange(String name, Boolean adminUp, PortConfig port)
    {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public static PortChange fromJson(final JsonNode node)
        {
            if (node == null || !node.isObject())
            {
                throw new IllegalArgumentException("must be a JSON object");
            }
            final Iterator<String> fields = node.fieldNames();
            boolean adminOnly = true;
            while (fields.hasNext())
            {
                final String field = fields.next();
                adminOnly &= "name".equals(field) || "adminUp".equals(field);
            }
            if (adminOnly)
            {
                final JsonNode up = node.get("adminUp");
                if (up == null || !up.isBoolean())
                {
                    throw new IllegalArgumentException("adminUp: " + (up == null ? "missing" : "must be true or false"));
                }
                return new PortChange(Json.required(node.path("name").textValue(), "name"), up.booleanValue(), null);
            }
            try
            {
                final PortConfig port = Json.bind(node, PortConfig.class);
                return new PortChange(port.name(), null, port);
            }
            catch (final ConfigException ex)
            {
                throw new IllegalArgumentException(ex.getMessage(), ex);
            }
        }

        @JsonValue
        public Map<String, Object> json()
        {
            return port != null ? port.json() : Map.of("name", name, "adminUp", adminUp);
        }
    }

    /** A port by name (to remove a tunnel). */
    public record PortKey(String name)
    {
        @JsonCreator
        public static PortKey fromJson(@JsonProperty("name") final String name)
        {
            return new PortKey(Json.required(name, "name"));
        }

        @JsonValue
        public Map<String, Object> json()
        {
            return Map.of("name", name);
        }
    }

    /**
     * @param portStats per port: capture drops at {@code 2 * port}, I/O errors at {@code 2 * port + 1}.
     * @param link      the device's link state as shown by GET: {@code up}, {@code down} or {@code missing}.
     * @param unicast   the ip4-unicast arc, where a tunnel's decapsulation is enabled on its underlay port.
     */
    public PortResource(final List<PortConfig> configured, final PortTable ports, final RoutingTable routes,
        final CounterGroup counters, final AtomicLongArray portStats, final IntFunction<String> link,
        final FeatureArc unicast, final WorkerProxy worker)
    {
        this.current = new ArrayList<>(configured);
        this.ports = ports;
        this.routes = routes;
        this.counters = counters;
        this.portStats = portStats;
        this.link = link;
        this.unicast = unicast;
        this.worker = worker;
    }

    @Override
    public String name()
    {
        return "ports";
    }

    @Override
    public String addOp()
    {
        return "port-set";
    }

    @Override
    public List<String> aliases()
    {
        return List.of("port-admin");
    }

    @Override
    public String removeOp()
    {
        return "port-remove";
    }

    @Override
    public Class<PortChange> recordType()
    {
        return PortChange.class;
    }

    @Override
    public Class<PortKey> keyType()
    {
        return PortKey.class;
    }

    /** What {@link #view} adds to each port's record. */
    @Override
    public java.util.Set<String> readOnlyFields()
    {
        return java.util.Set.of("link", "configuredMtu", "rxPackets", "txPackets", "rxBytes", "txBytes",
            "captureDrops", "ioErrors");
    }

    /**
     * A whole record of a port that exists (a GET answer, edited, PUT back) stands for its administrative state, the
     * one thing that changes at run time: every other field must be as it is (the MTU as configured or as GET shows
     * it, effective), else a 400 naming the field. It is journaled as {@code {name, adminUp}}.
     */
    @Override
    public PortChange canonical(final PortChange change) throws ApiException
    {
        if (change.port() == null)
        {
            return change;
        }
        final int port = ports.indexOf(change.port().name());
        if (port < 0)
        {
            return change;
        }
        final PortConfig now = current.get(port);
        final Map<String, Object> given = new java.util.LinkedHashMap<>(change.port().json());
        final Map<String, Object> have = now.json();
        if (Integer.valueOf(ports.mtu(port)).equals(given.get("mtu")))
        {
            given.put("mtu", have.get("mtu"));
        }
        final java.util.Set<String> fields = new java.util.LinkedHashSet<>(have.keySet());
        fields.addAll(given.keySet());
        for (final String field : fields)
        {
            if (!"adminUp".equals(field) && !java.util.Objects.equals(given.get(field), have.get(field)))
            {
                throw ApiException.badRequest(field, field + ": " + (have.get(field) == null ? "not set" :
                    have.get(field)) + " on " + now.name() + " cannot be changed at run time (only adminUp can; " +
                    "the rest comes from the config file)");
            }
        }
        return new PortChange(now.name(), change.port().adminUp(), null);
    }

    @Override
    public Change add(final PortChange change) throws ApiException
    {
        if (change.port() != null)
        {
            return addTunnel(change.port());
        }
        final int port = ports.indexOf(change.name());
        if (port < 0)
        {
            throw ApiException.badRequest("name", "name: unknown interface " + change.name());
        }
        final boolean before = ports.adminUp(port);
        applyAdmin(port, change.adminUp());
        return new Change(view(port), false, () -> applyAdmin(port, before));
    }

    private Change addTunnel(final PortConfig tunnel) throws ApiException
    {
        if (!tunnel.isTunnel())
        {
            throw ApiException.badRequest("type", "type: only tunnel (vxlan) ports are added at run time; ports on " +
                "wires come from the config file");
        }
        final List<PortConfig> all = new ArrayList<>(list());
        all.add(tunnel);
        try
        {
            ConfigLoader.checkPorts(all);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage().replaceFirst("^ports\\[\\d+]\\.", ""));
        }
        final int port;
        try
        {
            port = ports.addTunnel(tunnel);
        }
        catch (final IllegalStateException ex)
        {
            throw new ApiException(507, null, ex.getMessage());
        }
        counters.addPort(port, tunnel.name());
        while (current.size() <= port)
        {
            current.add(null);
        }
        current.set(port, tunnel);
        try
        {
            routes.addPort(port);
        }
        catch (final RouteException ex)
        {
            retire(port);
            throw RouteResource.error(ex);
        }
        unicast.enable(VxlanDecapStage.NAME, ports.underlay(port), true);
        return new Change(view(port), false, () -> retire(port));
    }

    @Override
    public Change remove(final PortKey key) throws ApiException
    {
        final int port = ports.indexOf(key.name());
        if (port < 0)
        {
            throw new ApiException(404, "name", "no port " + key.name());
        }
        if (!ports.isTunnel(port))
        {
            throw ApiException.badRequest("name", "name: " + key.name() + " is a port on a wire (from the config " +
                "file); only tunnel ports are removed at run time");
        }
        if (routes.hasUserRoutes(port))
        {
            throw new ApiException(409, "name", "name: routes go through " + key.name() + "; remove them first");
        }
        if (unicast.enabled(NatStage.NAME, port))
        {
            throw new ApiException(409, "name", "name: NAT uses " + key.name() + " (inside or outside); change " +
                "/v1/nat first");
        }
        for (final WorkerProxy.Neighbor neighbor : worker.neighbors())
        {
            if (neighbor.port() == port && neighbor.isStatic())
            {
                throw new ApiException(409, "name", "name: static neighbors are on " + key.name() +
                    "; remove them first");
            }
        }
        final PortConfig removed = current.get(port);
        retire(port);
        return new Change(Map.of("removed", key.name()), true, () ->
        {
            try
            {
                addTunnel(removed);
            }
            catch (final ApiException ex)
            {
                throw new IllegalStateException("could not restore port " + key.name(), ex);
            }
        });
    }

    /** Take a run-time tunnel out: no decapsulation for it, no routes, no learned neighbors, no name. */
    private void retire(final int port)
    {
        final int underlay = ports.underlay(port);
        routes.removePort(port);
        worker.removeNeighbors(port);
        ports.retire(port);
        counters.removePort(port);
        current.set(port, null);
        boolean otherTunnel = false;
        for (int i = 0; i < ports.count(); i++)
        {
            otherTunnel |= ports.isTunnel(i) && ports.underlay(i) == underlay;
        }
        if (!otherTunnel)
        {
            unicast.enable(VxlanDecapStage.NAME, underlay, false);
        }
    }

    private void applyAdmin(final int port, final boolean up)
    {
        if (ports.adminUp(port) != up)
        {
            ports.adminUp(port, up);
            routes.refreshPort(port);
        }
    }

    @Override
    public List<PortConfig> list()
    {
        final List<PortConfig> out = new ArrayList<>(current.size());
        for (int i = 0; i < current.size(); i++)
        {
            if (current.get(i) != null)
            {
                out.add(current.get(i).withAdminUp(ports.adminUp(i)));
            }
        }
        return out;
    }

    @Override
    public List<Map<String, Object>> view()
    {
        final List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < current.size(); i++)
        {
            if (current.get(i) != null)
            {
                out.add(view(i));
            }
        }
        return out;
    }

    private Map<String, Object> view(final int port)
    {
        final Map<String, Object> json = current.get(port).withAdminUp(ports.adminUp(port)).json();
        json.put("link", ports.isTunnel(port) ? "up" : link.apply(port));
        json.put("mtu", ports.mtu(port));
        json.put("configuredMtu", ports.configuredMtu(port));
        json.put("rxPackets", counters.rxPackets(port));
        json.put("txPackets", counters.txPackets(port));
        json.put("rxBytes", counters.rxBytes(port));
        json.put("txBytes", counters.txBytes(port));
        json.put("captureDrops", port < portStats.length() / 2 ? portStats.get(2 * port) : 0);
        json.put("ioErrors", port < portStats.length() / 2 ? portStats.get(2 * port + 1) : 0);
        return json;
    }

    /**
     * A snapshot's ports: the config file's keep only their administrative state from it; tunnels added at run time
     * come back whole.
     */
    @Override
    public void restore(final JsonNode section) throws ApiException
    {
        for (final JsonNode saved : section)
        {
            final int port = ports.indexOf(saved.path("name").asText());
            if (port >= 0 && saved.path("adminUp").isBoolean())
            {
                applyAdmin(port, saved.get("adminUp").booleanValue());
            }
            else if (port < 0 && "vxlan".equals(saved.path("type").asText()))
            {
                try
                {
                    addTunnel(Json.bind(saved, PortConfig.class));
                }
                catch (final ConfigException ex)
                {
                    throw ApiException.badRequest(ex.field(), ex.getMessage());
                }
            }
        }
    }
}
