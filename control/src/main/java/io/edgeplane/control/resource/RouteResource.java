package io.edgeplane.control.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Fields;
import io.edgeplane.config.Json;
import io.edgeplane.config.RouteConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ResourceHandler;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Routes ({@code /v1/routes}): added or replaced by (interface, prefix), removed by the same key, applied to the
 * routing table in place (make-before-break). The undo of a replacement restores the old next hop and metric.
 */
public final class RouteResource implements ResourceHandler<RouteConfig, RouteConfig.Key>
{
    private final PortTable ports;
    private final RoutingTable routes;

    public RouteResource(final PortTable ports, final RoutingTable routes)
    {
        this.ports = ports;
        this.routes = routes;
    }

    @Override
    public String name()
    {
        return "routes";
    }

    @Override
    public String addOp()
    {
        return "route-add";
    }

    @Override
    public String removeOp()
    {
        return "route-remove";
    }

    @Override
    public Class<RouteConfig> recordType()
    {
        return RouteConfig.class;
    }

    @Override
    public Class<RouteConfig.Key> keyType()
    {
        return RouteConfig.Key.class;
    }

    @Override
    public Change add(final RouteConfig route) throws ApiException
    {
        try
        {
            route.check(ports);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage());
        }
        final int port = ports.indexOf(route.interfaceName());
        final RouteConfig previous = find(port, route.prefix(), route.prefixLength());
        try
        {
            routes.add(port, route.prefix(), route.prefixLength(), route.nextHop(), route.metric());
        }
        catch (final RouteException ex)
        {
            throw error(ex);
        }
        final ObjectNode answer = Json.STRICT.valueToTree(route);
        answer.put("replaced", previous != null);
        return new Change(answer, previous != null, () -> restore(port, route.key(), previous));
    }

    @Override
    public RouteConfig.Key keyOf(final RouteConfig record)
    {
        return record.key();
    }

    @Override
    public Change remove(final RouteConfig.Key key) throws ApiException
    {
        final int port = ports.indexOf(key.interfaceName());
        if (port < 0)
        {
            throw ApiException.badRequest("interface", "interface: unknown interface " + key.interfaceName());
        }
        final RouteConfig existing = find(port, key.prefix(), key.prefixLength());
        if (existing == null || !routes.remove(port, key.prefix(), key.prefixLength()))
        {
            throw new ApiException(404, "prefix", "no route " + Fields.prefixText(key.prefix(), key.prefixLength()) +
                " on " + key.interfaceName());
        }
        final ObjectNode answer = Json.STRICT.createObjectNode();
        answer.set("removed", Json.STRICT.valueToTree(existing));
        return new Change(answer, true, () -> restore(port, key, existing));
    }

    /** Put the route with this key back as it was: absent, or with its old next hop and metric. */
    private void restore(final int port, final RouteConfig.Key key, final RouteConfig previous)
    {
        if (previous == null)
        {
            routes.remove(port, key.prefix(), key.prefixLength());
            return;
        }
        try
        {
            routes.add(port, previous.prefix(), previous.prefixLength(), previous.nextHop(), previous.metric());
        }
        catch (final RouteException ex)
        {
            // It was in the table a moment ago, under the same monitor: the same values fit again.
            throw new IllegalStateException("could not restore route " + previous, ex);
        }
    }

    private RouteConfig find(final int port, final int prefix, final int length)
    {
        for (final RouteConfig r : routes.routes(port))
        {
            if (r.prefix() == prefix && r.prefixLength() == length)
            {
                return r;
            }
        }
        return null;
    }

    @Override
    public List<RouteConfig> list()
    {
        return routes.routes(-1);
    }

    @Override
    public void restore(final JsonNode section) throws ApiException
    {
        final List<RouteConfig> saved;
        try
        {
            saved = Arrays.asList(Json.bind(section, RouteConfig[].class));
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage());
        }
        for (final RouteConfig r : routes.routes(-1))
        {
            routes.remove(ports.indexOf(r.interfaceName()), r.prefix(), r.prefixLength());
        }
        final List<Integer> portIndexes = new ArrayList<>();
        saved.forEach(r -> portIndexes.add(ports.indexOf(r.interfaceName())));
        try
        {
            routes.addAll(saved, portIndexes);
        }
        catch (final RouteException ex)
        {
            throw error(ex);
        }
    }

    static ApiException error(final RouteException ex)
    {
        return switch (ex.cause())
        {
            case CAPACITY -> new ApiException(507, null, ex.getMessage());
            case METRIC -> ApiException.badRequest("metric", ex.getMessage());
            case NEXT_HOP -> ApiException.badRequest("nextHop", ex.getMessage());
            case INTERFACE -> ApiException.badRequest("interface", ex.getMessage());
            default -> ApiException.badRequest("prefix", ex.getMessage());
        };
    }
}
