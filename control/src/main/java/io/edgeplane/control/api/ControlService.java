package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.NeighborConfig;
import io.edgeplane.config.RouteConfig;
import io.edgeplane.control.gateway.WorkerCommands;
import io.edgeplane.control.state.StateStore;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Every run-time change of the gateway goes through here: validate (a 4xx naming the field; nothing changes on
 * error), apply make-before-break (routes: in-place FIB updates; ports: atomic state + route refresh; neighbors:
 * a command the worker drains), persist (journal fsync) and only then acknowledge. Changes are serialised by this
 * object's monitor; reads of routes and counters need no lock. The same apply methods replay the journal at start.
 */
public final class ControlService
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final DataplaneConfig config;
    private final PortTable ports;
    private final RoutingTable routes;
    private final WorkerCommands worker;
    private final DataplaneCounters counters;
    private final StateStore store;
    private final AtomicLongArray portStats;
    private final Map<String, NeighborConfig> staticNeighbors = new LinkedHashMap<>();
    private boolean replaying;

    public ControlService(final DataplaneConfig config, final PortTable ports, final RoutingTable routes,
        final WorkerCommands worker, final DataplaneCounters counters, final StateStore store,
        final AtomicLongArray portStats)
    {
        this.portStats = portStats;
        this.config = config;
        this.ports = ports;
        this.routes = routes;
        this.worker = worker;
        this.counters = counters;
        this.store = store;
        for (final NeighborConfig neighbor : config.neighbors())
        {
            staticNeighbors.put(neighborKey(neighbor.interfaceName(), neighbor.address()), neighbor);
        }
    }

    private static String neighborKey(final String port, final int ip)
    {
        return port + "/" + Ipv4Address.format(ip);
    }

    // ---------------------------------------------------------------- routes

    public synchronized ObjectNode addRoute(final JsonNode body) throws ApiException
    {
        requireObject(body);
        checkFields(body, Set.of("interface", "destinationPrefix", "nextHop", "routeMetric"));
        final String name = text(body, "interface");
        final int port = port(name, "interface");
        final int[] prefix = prefix(text(body, "destinationPrefix"), "destinationPrefix");
        final int nextHop = address(text(body, "nextHop"), "nextHop");
        final int metric = body.has("routeMetric") ? integer(body, "routeMetric") : 100;
        final boolean replaced;
        try
        {
            routes.validate(port, prefix[0], prefix[1], nextHop, metric);
            replaced = routes.add(port, prefix[0], prefix[1], nextHop, metric);
        }
        catch (final RouteException ex)
        {
            throw switch (ex.cause())
            {
                case CAPACITY -> new ApiException(507, null, ex.getMessage());
                case METRIC -> ApiException.badRequest("routeMetric", ex.getMessage());
                case NEXT_HOP -> ApiException.badRequest("nextHop", ex.getMessage());
                case INTERFACE -> ApiException.badRequest("interface", ex.getMessage());
                default -> ApiException.badRequest("destinationPrefix", ex.getMessage());
            };
        }
        final ObjectNode op = routeJson(new RouteConfig(name, prefix[0], prefix[1], nextHop, metric));
        op.put("op", "route-add");
        persist(op, () -> undoRouteAdd(port, prefix, replaced));
        final ObjectNode answer = routeJson(new RouteConfig(name, prefix[0], prefix[1], nextHop, metric));
        answer.put("replaced", replaced);
        return answer;
    }

    private void undoRouteAdd(final int port, final int[] prefix, final boolean replaced)
    {
        if (!replaced)
        {
            routes.remove(port, prefix[0], prefix[1]);
        }
    }

    public synchronized ObjectNode removeRoute(final String name, final String prefixText) throws ApiException
    {
        final int port = port(require(name, "interface"), "interface");
        final int[] prefix = prefix(require(prefixText, "destinationPrefix"), "destinationPrefix");
        RouteConfig existing = null;
        for (final RouteConfig r : routes.routes(port))
        {
            if (r.prefix() == prefix[0] && r.prefixLength() == prefix[1])
            {
                existing = r;
            }
        }
        if (existing == null || !routes.remove(port, prefix[0], prefix[1]))
        {
            throw new ApiException(404, "destinationPrefix", "no route " + prefixText + " on " + name);
        }
        final ObjectNode op = MAPPER.createObjectNode().put("op", "route-remove").put("interface", name)
            .put("destinationPrefix", prefixText);
        final RouteConfig removed = existing;
        persist(op, () ->
        {
            try
            {
                routes.add(port, removed.prefix(), removed.prefixLength(), removed.nextHop(), removed.metric());
            }
            catch (final RouteException ignored)
            {
                // It was there a moment ago; nothing else can have taken its place under this monitor.
            }
        });
        return MAPPER.createObjectNode().set("removed", routeJson(existing));
    }

    public ArrayNode listRoutes(final String name) throws ApiException
    {
        final int port = name == null ? -1 : port(name, "interface");
        final ArrayNode out = MAPPER.createArrayNode();
        for (final RouteConfig r : routes.routes(port))
        {
            out.add(routeJson(r));
        }
        return out;
    }

    private static ObjectNode routeJson(final RouteConfig r)
    {
        return MAPPER.createObjectNode().put("interface", r.interfaceName())
            .put("destinationPrefix", Ipv4Address.format(r.prefix()) + "/" + r.prefixLength())
            .put("nextHop", Ipv4Address.format(r.nextHop())).put("routeMetric", r.metric());
    }

    // ---------------------------------------------------------------- ports

    public synchronized ObjectNode setPort(final String name, final JsonNode body) throws ApiException
    {
        final int port = port(name, "name");
        requireObject(body);
        checkFields(body, Set.of("adminUp"));
        final JsonNode value = body.get("adminUp");
        if (value == null || !value.isBoolean())
        {
            throw ApiException.badRequest("adminUp", "adminUp: must be true or false");
        }
        final boolean before = ports.adminUp(port);
        applyPortAdmin(port, value.booleanValue());
        persist(MAPPER.createObjectNode().put("op", "port-admin").put("name", name)
            .put("adminUp", value.booleanValue()), () -> applyPortAdmin(port, before));
        return portJson(port);
    }

    private void applyPortAdmin(final int port, final boolean up)
    {
        if (ports.adminUp(port) != up)
        {
            ports.adminUp(port, up);
            routes.refreshPort(port);
        }
    }

    public ArrayNode listPorts()
    {
        final ArrayNode out = MAPPER.createArrayNode();
        for (int i = 0; i < ports.count(); i++)
        {
            out.add(portJson(i));
        }
        return out;
    }

    private ObjectNode portJson(final int port)
    {
        final ObjectNode node = MAPPER.createObjectNode().put("name", ports.name(port))
            .put("device", ports.device(port)).put("mac", Ipv4Address.formatMac(ports.mac(port)))
            .put("ipv4", Ipv4Address.format(ports.address(port)) + "/" + ports.prefixLength(port))
            .put("mtu", ports.mtu(port)).put("adminUp", ports.adminUp(port));
        node.put("rxPackets", counters.rxPackets(port).get()).put("txPackets", counters.txPackets(port).get())
            .put("rxBytes", counters.rxBytes(port).get()).put("txBytes", counters.txBytes(port).get())
            .put("captureDrops", portStats.get(2 * port)).put("ioErrors", portStats.get(2 * port + 1));
        return node;
    }

    // ---------------------------------------------------------------- neighbors

    public synchronized ObjectNode addNeighbor(final JsonNode body) throws ApiException
    {
        requireObject(body);
        checkFields(body, Set.of("interface", "ip", "mac"));
        final String name = text(body, "interface");
        final int port = port(name, "interface");
        final int ip = address(text(body, "ip"), "ip");
        final long mac;
        try
        {
            mac = Ipv4Address.parseMac(text(body, "mac"));
        }
        catch (final IllegalArgumentException ex)
        {
            throw ApiException.badRequest("mac", "mac: " + ex.getMessage());
        }
        if ((mac & 0x0100_0000_0000L) != 0)
        {
            throw ApiException.badRequest("mac", "mac: a neighbor MAC must be unicast");
        }
        if (!ports.onLink(port, ip) || ports.ownerOf(ip) >= 0)
        {
            throw ApiException.badRequest("ip", "ip: " + Ipv4Address.format(ip) + " is not a neighbor address on " +
                name);
        }
        final NeighborConfig neighbor = new NeighborConfig(name, ip, mac);
        final NeighborConfig previous = staticNeighbors.put(neighborKey(name, ip), neighbor);
        worker.call(dp ->
        {
            dp.neighbors().addStatic(port, ip, mac);
            return null;
        });
        final ObjectNode op = neighborJson(neighbor, true).put("op", "neighbor-add");
        op.remove("static");
        persist(op, () -> restoreNeighbor(port, ip, previous));
        return neighborJson(neighbor, true);
    }

    private void restoreNeighbor(final int port, final int ip, final NeighborConfig previous)
    {
        if (previous == null)
        {
            staticNeighbors.remove(neighborKey(ports.name(port), ip));
            worker.call(dp -> dp.neighbors().remove(port, ip));
        }
        else
        {
            staticNeighbors.put(neighborKey(ports.name(port), ip), previous);
            worker.call(dp ->
            {
                dp.neighbors().addStatic(port, ip, previous.mac());
                return null;
            });
        }
    }

    public synchronized ObjectNode removeNeighbor(final String name, final String ipText) throws ApiException
    {
        final int port = port(require(name, "interface"), "interface");
        final int ip = address(require(ipText, "ip"), "ip");
        final NeighborConfig previous = staticNeighbors.remove(neighborKey(name, ip));
        final boolean removed = worker.call(dp -> dp.neighbors().remove(port, ip));
        if (!removed)
        {
            throw new ApiException(404, "ip", "no neighbor " + ipText + " on " + name);
        }
        persist(MAPPER.createObjectNode().put("op", "neighbor-remove").put("interface", name).put("ip", ipText),
            () -> restoreNeighbor(port, ip, previous));
        return MAPPER.createObjectNode().put("removed", ipText);
    }

    public ArrayNode listNeighbors()
    {
        final List<ObjectNode> entries = worker.call(dp ->
        {
            final List<ObjectNode> list = new ArrayList<>();
            dp.neighbors().forEach((port, ip, mac, isStatic) -> list.add(neighborJson(
                new NeighborConfig(ports.name(port), ip, mac), isStatic)));
            return list;
        });
        entries.sort((a, b) -> (a.get("interface").asText() + a.get("ip").asText())
            .compareTo(b.get("interface").asText() + b.get("ip").asText()));
        final ArrayNode out = MAPPER.createArrayNode();
        entries.forEach(out::add);
        return out;
    }

    private static ObjectNode neighborJson(final NeighborConfig n, final boolean isStatic)
    {
        return MAPPER.createObjectNode().put("interface", n.interfaceName()).put("ip", Ipv4Address.format(n.address()))
            .put("mac", Ipv4Address.formatMac(n.mac())).put("static", isStatic);
    }

    // ---------------------------------------------------------------- counters, trace, config

    public ObjectNode counters()
    {
        final DataplaneCounters.Snapshot snapshot = counters.snapshot();
        final ObjectNode node = MAPPER.createObjectNode();
        node.set("ports", MAPPER.valueToTree(snapshot.ports));
        node.set("stages", MAPPER.valueToTree(snapshot.stages));
        node.set("drops", MAPPER.valueToTree(snapshot.drops));
        return node;
    }

    /** Prometheus text exposition format (version 0.0.4). */
    public String prometheus()
    {
        final DataplaneCounters.Snapshot snapshot = counters.snapshot();
        final StringBuilder out = new StringBuilder(4096);
        for (final String metric : new String[] {"rx-packets", "rx-bytes", "tx-packets", "tx-bytes"})
        {
            final String name = "edgeplane_port_" + metric.replace('-', '_') + "_total";
            out.append("# HELP ").append(name).append(" Port ").append(metric).append(".\n");
            out.append("# TYPE ").append(name).append(" counter\n");
            snapshot.ports.forEach((port, values) -> out.append(name).append("{port=\"").append(port).append("\"} ")
                .append(values.get(metric)).append('\n'));
        }
        out.append("# HELP edgeplane_stage_packets_total Packets processed per pipeline stage.\n");
        out.append("# TYPE edgeplane_stage_packets_total counter\n");
        snapshot.stages.forEach((stage, value) -> out.append("edgeplane_stage_packets_total{stage=\"").append(stage)
            .append("\"} ").append(value).append('\n'));
        out.append("# HELP edgeplane_drops_total Packets dropped, by reason.\n");
        out.append("# TYPE edgeplane_drops_total counter\n");
        for (final io.edgeplane.counters.DropReason reason : io.edgeplane.counters.DropReason.values())
        {
            out.append("edgeplane_drops_total{reason=\"").append(reason.label()).append("\"} ")
                .append(counters.drop(reason).get()).append('\n');
        }
        return out.toString();
    }

    public ObjectNode startTrace(final JsonNode body) throws ApiException
    {
        requireObject(body);
        checkFields(body, Set.of("packets", "address"));
        final int packets = body.has("packets") ? integer(body, "packets") : 10;
        if (packets < 0 || packets > 10_000)
        {
            throw ApiException.badRequest("packets", "packets: " + packets + " not in 0..10000");
        }
        final Integer address = body.has("address") ? address(text(body, "address"), "address") : null;
        worker.call(dp ->
        {
            dp.tracer().clear();
            if (address == null)
            {
                dp.tracer().traceFirst(packets);
            }
            else
            {
                dp.tracer().traceAddress(address, packets);
            }
            return null;
        });
        return MAPPER.createObjectNode().put("tracing", packets);
    }

    public String trace()
    {
        return worker.call(dp -> dp.formatTrace());
    }

    /** The running configuration in the config file's own format (it can be saved and loaded as a config). */
    public synchronized ObjectNode runningConfig()
    {
        final ObjectNode root = MAPPER.createObjectNode();
        final ArrayNode portsNode = root.putArray("ports");
        for (int i = 0; i < ports.count(); i++)
        {
            final ObjectNode p = portsNode.addObject().put("name", ports.name(i))
                .put("mac", Ipv4Address.formatMac(ports.mac(i)))
                .put("ipv4", Ipv4Address.format(ports.address(i)) + "/" + ports.prefixLength(i))
                .put("mtu", ports.mtu(i));
            if (ports.vlan(i) != 0)
            {
                p.put("vlan", ports.vlan(i));
            }
            if (ports.device(i) != null)
            {
                p.put("device", ports.device(i));
            }
            p.put("adminUp", ports.adminUp(i));
        }
        final ArrayNode routesNode = root.putArray("routes");
        for (final RouteConfig r : routes.routes(-1))
        {
            routesNode.addObject().put("interface", r.interfaceName())
                .put("prefix", Ipv4Address.format(r.prefix()) + "/" + r.prefixLength())
                .put("nextHop", Ipv4Address.format(r.nextHop())).put("metric", r.metric());
        }
        final ArrayNode neighborsNode = root.putArray("neighbors");
        for (final NeighborConfig n : staticNeighbors.values())
        {
            neighborsNode.addObject().put("interface", n.interfaceName()).put("ip", Ipv4Address.format(n.address()))
                .put("mac", Ipv4Address.formatMac(n.mac()));
        }
        root.put("flowHashSeed", config.flowHashSeed());
        return root;
    }

    // ---------------------------------------------------------------- persistence and recovery

    private void persist(final ObjectNode op, final Runnable undo) throws ApiException
    {
        if (store == null || replaying)
        {
            return;
        }
        try
        {
            if (store.append(op))
            {
                store.compact(runningConfig());
            }
        }
        catch (final IOException ex)
        {
            undo.run();
            throw new ApiException(500, null, "could not persist the change (" + ex.getMessage() + "); not applied");
        }
    }

    /** Apply a persisted snapshot (the running-config format) and journal ops, at start, before the API opens. */
    public synchronized void restore(final JsonNode snapshot, final List<JsonNode> ops) throws ConfigException
    {
        if (snapshot != null)
        {
            final DataplaneConfig saved;
            final ObjectNode copy = snapshot.deepCopy();
            copy.remove("sequence");
            copy.set("ports", runningConfig().get("ports"));
            saved = ConfigLoader.parse(copy.toString());
            for (final RouteConfig r : routes.routes(-1))
            {
                routes.remove(ports.indexOf(r.interfaceName()), r.prefix(), r.prefixLength());
            }
            final List<Integer> portIndexes = new ArrayList<>();
            saved.routes().forEach(r -> portIndexes.add(ports.indexOf(r.interfaceName())));
            try
            {
                routes.addAll(saved.routes(), portIndexes);
            }
            catch (final RouteException ex)
            {
                throw new ConfigException("persisted routes: " + ex.getMessage());
            }
            for (final NeighborConfig n : List.copyOf(staticNeighbors.values()))
            {
                final int port = ports.indexOf(n.interfaceName());
                worker.call(dp -> dp.neighbors().remove(port, n.address()));
            }
            staticNeighbors.clear();
            for (final NeighborConfig n : saved.neighbors())
            {
                staticNeighbors.put(neighborKey(n.interfaceName(), n.address()), n);
                final int port = ports.indexOf(n.interfaceName());
                worker.call(dp ->
                {
                    dp.neighbors().addStatic(port, n.address(), n.mac());
                    return null;
                });
            }
            final JsonNode savedPorts = snapshot.path("ports");
            for (final JsonNode p : savedPorts)
            {
                final int port = ports.indexOf(p.path("name").asText());
                if (port >= 0 && p.has("adminUp"))
                {
                    applyPortAdmin(port, p.get("adminUp").asBoolean());
                }
            }
        }
        for (final JsonNode op : ops)
        {
            try
            {
                replay(op);
            }
            catch (final ApiException ex)
            {
                throw new ConfigException("journal op " + op.path("seq").asLong() + " (" + op.path("op").asText() +
                    "): " + ex.getMessage());
            }
        }
    }

    private void replay(final JsonNode op) throws ApiException
    {
        final ObjectNode body = op.deepCopy();
        final String kind = body.path("op").asText();
        body.remove("op");
        body.remove("seq");
        switch (kind)
        {
            case "route-add" -> withoutPersisting(() -> addRoute(body));
            case "route-remove" -> withoutPersisting(() -> ignoringMissing(() ->
                removeRoute(body.path("interface").asText(), body.path("destinationPrefix").asText())));
            case "port-admin" -> withoutPersisting(() ->
            {
                final String name = body.path("name").asText();
                body.remove("name");
                return setPort(name, body);
            });
            case "neighbor-add" -> withoutPersisting(() -> addNeighbor(body));
            case "neighbor-remove" -> withoutPersisting(() -> ignoringMissing(() ->
                removeNeighbor(body.path("interface").asText(), body.path("ip").asText())));
            default -> throw ApiException.badRequest("op", "unknown op " + kind);
        }
    }

    @FunctionalInterface
    private interface Change
    {
        Object run() throws ApiException;
    }

    /** Replaying a removal of something already absent (it is in the snapshot too) is not an error. */
    private static Object ignoringMissing(final Change change) throws ApiException
    {
        try
        {
            return change.run();
        }
        catch (final ApiException ex)
        {
            if (ex.status() == 404)
            {
                return null;
            }
            throw ex;
        }
    }

    private void withoutPersisting(final Change change) throws ApiException
    {
        replaying = true;
        try
        {
            change.run();
        }
        finally
        {
            replaying = false;
        }
    }

    // ---------------------------------------------------------------- validation helpers

    private int port(final String name, final String field) throws ApiException
    {
        final int port = ports.indexOf(name);
        if (port < 0)
        {
            throw ApiException.badRequest(field, field + ": unknown interface " + name);
        }
        return port;
    }

    private static int[] prefix(final String text, final String field) throws ApiException
    {
        try
        {
            return ConfigLoader.parsePrefix(text, field);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(field, ex.getMessage());
        }
    }

    private static int address(final String text, final String field) throws ApiException
    {
        try
        {
            return ConfigLoader.parseAddress(text, field);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(field, ex.getMessage());
        }
    }

    private static String require(final String value, final String field) throws ApiException
    {
        if (value == null || value.isEmpty())
        {
            throw ApiException.badRequest(field, field + ": missing");
        }
        return value;
    }

    private static void requireObject(final JsonNode body) throws ApiException
    {
        if (body == null || !body.isObject())
        {
            throw ApiException.badRequest(null, "request body must be a JSON object");
        }
    }

    private static void checkFields(final JsonNode body, final Set<String> allowed) throws ApiException
    {
        final Iterator<String> names = body.fieldNames();
        while (names.hasNext())
        {
            final String name = names.next();
            if (!allowed.contains(name))
            {
                throw ApiException.badRequest(name, name + ": unknown field (allowed: " +
                    String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private static String text(final JsonNode body, final String field) throws ApiException
    {
        final JsonNode value = body.get(field);
        if (value == null || value.isNull())
        {
            throw ApiException.badRequest(field, field + ": missing");
        }
        if (!value.isTextual())
        {
            throw ApiException.badRequest(field, field + ": must be a string");
        }
        return value.textValue();
    }

    private static int integer(final JsonNode body, final String field) throws ApiException
    {
        final JsonNode value = body.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt())
        {
            throw ApiException.badRequest(field, field + ": must be an integer");
        }
        return value.intValue();
    }
}
