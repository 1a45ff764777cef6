package io.edgeplane.control.resource;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import io.edgeplane.config.Json;
import io.edgeplane.config.PortConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ResourceHandler;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RoutingTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;

/**
 * Ports ({@code /v1/ports}): the config file defines them; at run time their administrative state is set
 * ({@code PUT /v1/ports/{name} {"adminUp": false}}): an atomic flag the worker reads, then the routes through the
 * port are re-evaluated (failover). GET shows each port with its counters, its device's link state and its
 * effective MTU (the smaller of the config's and the device's).
 */
public final class PortResource implements ResourceHandler<PortResource.AdminState, PortResource.AdminState>
{
    private final List<PortConfig> configured;
    private final PortTable ports;
    private final RoutingTable routes;
    private final DataplaneCounters counters;
    private final AtomicLongArray portStats;
    private final IntFunction<String> link;

    /** The settable part of a port: {@code {"name", "adminUp"}}. */
    public record AdminState(String name, boolean adminUp)
    {
        @JsonCreator
        public static AdminState fromJson(@JsonProperty("name") final String name,
            @JsonProperty("adminUp") final Boolean adminUp)
        {
            return new AdminState(Json.required(name, "name"), Json.required(adminUp, "adminUp"));
        }

        @JsonValue
        public Map<String, Object> json()
        {
            return Map.of("name", name, "adminUp", adminUp);
        }
    }

    /**
     * @param portStats per port: capture drops at {@code 2 * port}, I/O errors at {@code 2 * port + 1}.
     */
    public PortResource(final List<PortConfig> configured, final PortTable ports, final RoutingTable routes,
        final DataplaneCounters counters, final AtomicLongArray portStats)
    {
        this(configured, ports, routes, counters, portStats, port -> ports.linkUp(port) ? "up" : "down");
    }

    /**
     * @param link the device's link state as shown by GET: {@code up}, {@code down} or {@code missing}.
     */
    public PortResource(final List<PortConfig> configured, final PortTable ports, final RoutingTable routes,
        final DataplaneCounters counters, final AtomicLongArray portStats, final IntFunction<String> link)
    {
        this.link = link;
        this.configured = List.copyOf(configured);
        this.ports = ports;
        this.routes = routes;
        this.counters = counters;
        this.portStats = portStats;
    }

    @Override
    public String name()
    {
        return "ports";
    }

    @Override
    public String addOp()
    {
        return "port-admin";
    }

    @Override
    public String removeOp()
    {
        return null;
    }

    @Override
    public Class<AdminState> recordType()
    {
        return AdminState.class;
    }

    @Override
    public Class<AdminState> keyType()
    {
        return AdminState.class;
    }

    @Override
    public Change add(final AdminState state) throws ApiException
    {
        final int port = ports.indexOf(state.name());
        if (port < 0)
        {
            throw ApiException.badRequest("name", "name: unknown interface " + state.name());
        }
        final boolean before = ports.adminUp(port);
        applyAdmin(port, state.adminUp());
        return new Change(view(port), false, () -> applyAdmin(port, before));
    }

    @Override
    public Change remove(final AdminState key) throws ApiException
    {
        throw new ApiException(405, null, "ports cannot be removed");
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
        final List<PortConfig> out = new ArrayList<>(configured.size());
        for (int i = 0; i < configured.size(); i++)
        {
            out.add(configured.get(i).withAdminUp(ports.adminUp(i)));
        }
        return out;
    }

    @Override
    public List<Map<String, Object>> view()
    {
        final List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < ports.count(); i++)
        {
            out.add(view(i));
        }
        return out;
    }

    private Map<String, Object> view(final int port)
    {
        final Map<String, Object> json = configured.get(port).withAdminUp(ports.adminUp(port)).json();
        json.put("link", link.apply(port));
        json.put("mtu", ports.mtu(port));
        json.put("configuredMtu", ports.configuredMtu(port));
        json.put("rxPackets", counters.rxPackets(port).get());
        json.put("txPackets", counters.txPackets(port).get());
        json.put("rxBytes", counters.rxBytes(port).get());
        json.put("txBytes", counters.txBytes(port).get());
        json.put("captureDrops", portStats.get(2 * port));
        json.put("ioErrors", portStats.get(2 * port + 1));
        return json;
    }

    /** A snapshot's ports give back only their administrative state: the config file defines the ports. */
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
        }
    }
}
