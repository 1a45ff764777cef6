package io.edgeplane.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The CLI verbs that talk to a running gateway, mirroring the {@code Add/Get/Remove-HcsNetRoute} model:
 * {@code route add|get|remove}, {@code port get|set|add|remove}, {@code neighbor add|get|remove},
 * {@code nat get|set|sessions|flush}, {@code service add|get|remove|backends}, {@code counters},
 * {@code trace start|get}.
 */
public final class ControlCommands
{
    private ControlCommands()
    {
    }

    /** A noun whose verbs are its subcommands: alone, it names them in a one-line error. */
    abstract static class VerbGroup implements Runnable
    {
        @Spec
        CommandSpec spec;

        @Override
        public void run()
        {
            throw new Main.UserError(spec.name() + ": missing verb (" + String.join(", ",
                spec.subcommands().keySet()) + ")");
        }
    }

    @Command(name = "route", description = "Routes of the running gateway.",
        subcommands = {RouteAdd.class, RouteGet.class, RouteRemove.class})
    public static final class Route extends VerbGroup
    {
    }

    @Command(name = "add", description = "Add a route (replaces the route with the same interface and prefix).")
    static final class RouteAdd implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--interface", required = true)
        String iface;

        @Option(names = "--prefix", required = true, description = "destination prefix, e.g. 192.168.20.0/24")
        String prefix;

        @Option(names = "--next-hop", required = true)
        String nextHop;

        @Option(names = "--metric", defaultValue = "100")
        int metric;

        @Override
        public void run()
        {
            final ObjectNode body = ApiClient.MAPPER.createObjectNode().put("interface", iface)
                .put("prefix", prefix).put("nextHop", nextHop).put("metric", metric);
            client.print(client.callJson("POST", "/v1/routes", body), "interface", "prefix", "nextHop",
                "metric", "replaced");
        }
    }

    @Command(name = "get", description = "List routes, all or of one interface.")
    static final class RouteGet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--interface")
        String iface;

        @Override
        public void run()
        {
            client.print(client.callJson("GET", "/v1/routes" + (iface == null ? "" : "?interface=" +
                ApiClient.encode(iface)), null), "interface", "prefix", "nextHop", "metric");
        }
    }

    @Command(name = "remove", description = "Remove the route of an interface to a prefix.")
    static final class RouteRemove implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--interface", required = true)
        String iface;

        @Option(names = "--prefix", required = true)
        String prefix;

        @Override
        public void run()
        {
            final JsonNode removed = client.callJson("DELETE", "/v1/routes?interface=" + ApiClient.encode(iface) +
                "&prefix=" + ApiClient.encode(prefix), null);
            client.print(removed.has("removed") && !client.json ? removed.get("removed") : removed, "interface",
                "prefix", "nextHop", "metric");
        }
    }

    @Command(name = "port", description = "Ports of the running gateway.", subcommands = {PortGet.class,
        PortSet.class, PortAdd.class, PortRemove.class})
    public static final class Port extends VerbGroup
    {
    }

    @Command(name = "get", description = "List ports with state and counters.")
    static final class PortGet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Override
        public void run()
        {
            client.print(client.callJson("GET", "/v1/ports", null), "name", "device", "ipv4", "mac", "mtu",
                "adminUp", "rxPackets", "txPackets");
        }
    }

    @Command(name = "add", description = "Add a tunnel port at run time (the config file's fields).")
    static final class PortAdd implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name", required = true)
        String name;

        @Option(names = "--type", defaultValue = "vxlan", description = "vxlan (ports on wires come from the config)")
        String type;

        @Option(names = "--vni", required = true)
        int vni;

        @Option(names = "--underlay", required = true, description = "the port the tunnel runs over")
        String underlay;

        @Option(names = "--mac", required = true)
        String mac;

        @Option(names = "--ipv4", required = true, description = "address/prefix-length on the overlay")
        String ipv4;

        @Option(names = "--udp-port", description = "default 4789")
        Integer udpPort;

        @Option(names = "--mtu")
        Integer mtu;

        @Option(names = "--df", description = "set (default), unset or inherit")
        String df;

        @Override
        public void run()
        {
            final ObjectNode body = ApiClient.MAPPER.createObjectNode().put("name", name).put("type", type)
                .put("vni", vni).put("underlay", underlay).put("mac", mac).put("ipv4", ipv4);
            if (udpPort != null)
            {
                body.put("udpPort", udpPort);
            }
            if (mtu != null)
            {
                body.put("mtu", mtu);
            }
            if (df != null)
            {
                body.put("df", df);
            }
            client.print(client.callJson("POST", "/v1/ports", body), "name", "type", "vni", "underlay", "ipv4",
                "mtu");
        }
    }

    @Command(name = "remove", description = "Remove a tunnel port (refused while routes, static neighbors or NAT " +
        "use it).")
    static final class PortRemove implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name", required = true)
        String name;

        @Override
        public void run()
        {
            client.print(client.callJson("DELETE", "/v1/ports?name=" + ApiClient.encode(name), null), "removed");
        }
    }

    @Command(name = "set", description = "Set a port administratively up or down.")
    static final class PortSet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name", required = true)
        String name;

        @Option(names = "--admin", required = true, description = "up or down")
        String admin;

        @Override
        public void run()
        {
            if (!"up".equals(admin) && !"down".equals(admin))
            {
                throw new Main.UserError("--admin: expected up or down, got " + admin);
            }
            client.print(client.callJson("PUT", "/v1/ports/" + ApiClient.encode(name),
                ApiClient.MAPPER.createObjectNode().put("adminUp", "up".equals(admin))), "name", "adminUp");
        }
    }

    @Command(name = "nat", description = "Masquerade of the internal switch in the running gateway.",
        subcommands = {NatGet.class, NatSet.class, NatSessions.class, NatFlush.class})
    public static final class Nat extends VerbGroup
    {
    }

    @Command(name = "get", description = "Show the NAT settings, what they resolved to, and session figures.")
    static final class NatGet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Override
        public void run()
        {
            final JsonNode nat = client.callJson("GET", "/v1/nat", null);
            if (client.json)
            {
                System.out.println(nat.toPrettyString());
                return;
            }
            nat.fields().forEachRemaining(field -> System.out.printf("%-18s %s%n", field.getKey(),
                field.getValue().isValueNode() ? field.getValue().asText() : field.getValue().toString()));
        }
    }

    @Command(name = "set", description = "Change NAT settings: the options given replace those fields of the " +
        "settings in force (new flows use them).")
    static final class NatSet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--inside", split = ",", description = "inside ports, e.g. Port4 (\"\" turns NAT off)")
        List<String> inside;

        @Option(names = "--outside", description = "outside port (\"\" follows the best default route)")
        String outside;

        @Option(names = "--addresses", split = ",", description = "outside address pool (\"\" for the port's own)")
        List<String> addresses;

        @Option(names = "--port-range", description = "e.g. 1024-65535")
        String portRange;

        @Option(names = "--filtering", description = "address-and-port-dependent or endpoint-independent")
        String filtering;

        @Option(names = "--max-sessions")
        Integer maxSessions;

        @Option(names = "--udp-timeout", description = "seconds")
        Integer udp;

        @Option(names = "--tcp-established-timeout", description = "seconds")
        Integer tcpEstablished;

        @Option(names = "--tcp-transitory-timeout", description = "seconds")
        Integer tcpTransitory;

        @Option(names = "--icmp-timeout", description = "seconds")
        Integer icmp;

        @Override
        public void run()
        {
            final JsonNode current = client.callJson("GET", "/v1/nat", null);
            final ObjectNode body = ApiClient.MAPPER.createObjectNode();
            for (final String field : new String[] {"inside", "outside", "addresses", "portRange", "filtering",
                "maxSessions", "timeouts"})
            {
                if (current.has(field))
                {
                    body.set(field, current.get(field).deepCopy());
                }
            }
            if (inside != null)
            {
                final ArrayNode ports = body.putArray("inside");
                inside.stream().filter(p -> !p.isEmpty()).forEach(ports::add);
            }
            if (!body.has("inside"))
            {
                throw new Main.UserError("--inside: NAT is not configured yet; name the inside ports");
            }
            if (outside != null)
            {
                if (outside.isEmpty())
                {
                    body.remove("outside");
                }
                else
                {
                    body.put("outside", outside);
                }
            }
            if (addresses != null)
            {
                final ArrayNode pool = body.putArray("addresses");
                addresses.stream().filter(a -> !a.isEmpty()).forEach(pool::add);
            }
            if (portRange != null)
            {
                body.put("portRange", portRange);
            }
            if (filtering != null)
            {
                body.put("filtering", filtering);
            }
            if (maxSessions != null)
            {
                body.put("maxSessions", maxSessions);
            }
            final ObjectNode timeouts = body.has("timeouts") ? (ObjectNode)body.get("timeouts") :
                body.putObject("timeouts");
            if (udp != null)
            {
                timeouts.put("udp", udp);
            }
            if (tcpEstablished != null)
            {
                timeouts.put("tcpEstablished", tcpEstablished);
            }
            if (tcpTransitory != null)
            {
                timeouts.put("tcpTransitory", tcpTransitory);
            }
            if (icmp != null)
            {
                timeouts.put("icmp", icmp);
            }
            final JsonNode answer = client.callJson("PUT", "/v1/nat", body);
            client.print(answer, "enabled", "inside", "outsidePort", "outsideAddresses", "portRange", "filtering");
        }
    }

    @Command(name = "sessions", description = "List NAT sessions (both directions' tuples, state, idle time).")
    static final class NatSessions implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--address", description = "only sessions with this address in a tuple")
        String address;

        @Option(names = "--protocol", description = "tcp, udp or icmp")
        String protocol;

        @Option(names = "--limit", description = "at most this many (default 1000)")
        Integer limit;

        @Override
        public void run()
        {
            client.print(client.callJson("GET", "/v1/nat/sessions" + natQuery(address, protocol, limit), null),
                "protocol", "original", "reply", "state", "idleSeconds", "expiresInSeconds");
        }
    }

    @Command(name = "flush", description = "Remove NAT sessions (all, or those matching the filters).")
    static final class NatFlush implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--address")
        String address;

        @Option(names = "--protocol")
        String protocol;

        @Override
        public void run()
        {
            client.print(client.callJson("DELETE", "/v1/nat/sessions" + natQuery(address, protocol, null), null),
                "flushed");
        }
    }

    static String natQuery(final String address, final String protocol, final Integer limit)
    {
        final StringBuilder query = new StringBuilder();
        if (address != null)
        {
            query.append(query.length() == 0 ? '?' : '&').append("address=").append(ApiClient.encode(address));
        }
        if (protocol != null)
        {
            query.append(query.length() == 0 ? '?' : '&').append("protocol=").append(ApiClient.encode(protocol));
        }
        if (limit != null)
        {
            query.append(query.length() == 0 ? '?' : '&').append("limit=").append(limit);
        }
        return query.toString();
    }

    @Command(name = "service", description = "Kubernetes services of the running gateway.",
        subcommands = {ServiceAdd.class, ServiceGet.class, ServiceRemove.class, ServiceBackends.class})
    public static final class Service extends VerbGroup
    {
    }

    @Command(name = "add", description = "Add a service, or replace the one with the same name.")
    static final class ServiceAdd implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name", required = true)
        String name;

        @Option(names = "--type", defaultValue = "ClusterIP", description = "ClusterIP, NodePort or LoadBalancer")
        String type;

        @Option(names = "--port", required = true, description = "port/protocol, e.g. 80/TCP")
        String port;

        @Option(names = "--target-port")
        Integer targetPort;

        @Option(names = "--node-port")
        Integer nodePort;

        @Option(names = "--cluster-ip")
        String clusterIp;

        @Option(names = "--load-balancer-ip")
        String loadBalancerIp;

        @Option(names = "--backends", split = ",", description = "backend pod addresses")
        List<String> backends;

        @Override
        public void run()
        {
            final String[] parts = port.split("/", 2);
            final int number;
            try
            {
                number = Integer.parseInt(parts[0]);
            }
            catch (final NumberFormatException ex)
            {
                throw new Main.UserError("--port: expected port/protocol (80/TCP), got " + port);
            }
            final ObjectNode body = ApiClient.MAPPER.createObjectNode().put("name", name).put("type", type);
            if (clusterIp != null)
            {
                body.put("clusterIP", clusterIp);
            }
            if (loadBalancerIp != null)
            {
                body.put("loadBalancerIP", loadBalancerIp);
            }
            final ObjectNode p = body.putArray("ports").addObject().put("protocol", parts.length > 1 ? parts[1] :
                "TCP").put("port", number);
            if (targetPort != null)
            {
                p.put("targetPort", targetPort);
            }
            if (nodePort != null)
            {
                p.put("nodePort", nodePort);
            }
            final ArrayNode list = body.putArray("backends");
            if (backends != null)
            {
                backends.stream().filter(b -> !b.isEmpty()).forEach(b -> list.addObject().put("ip", b));
            }
            client.print(client.callJson("POST", "/v1/services", body), "name", "type", "clusterIP",
                "loadBalancerIP", "ports", "backends");
        }
    }

    @Command(name = "get", description = "List services, all or one.")
    static final class ServiceGet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name")
        String name;

        @Override
        public void run()
        {
            client.print(client.callJson("GET", "/v1/services" + (name == null ? "" : "?name=" +
                ApiClient.encode(name)), null), "name", "type", "clusterIP", "loadBalancerIP", "ports", "backends");
        }
    }

    @Command(name = "remove", description = "Remove a service.")
    static final class ServiceRemove implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name", required = true)
        String name;

        @Override
        public void run()
        {
            client.print(client.callJson("DELETE", "/v1/services?name=" + ApiClient.encode(name), null), "removed");
        }
    }

    @Command(name = "backends", description = "Replace a service's backends (the Endpoints update).")
    static final class ServiceBackends implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--name", required = true)
        String name;

        @Option(names = "--set", required = true, split = ",", description = "addresses; \"\" for none")
        List<String> set;

        @Override
        public void run()
        {
            final ObjectNode body = ApiClient.MAPPER.createObjectNode();
            final ArrayNode list = body.putArray("backends");
            set.stream().filter(b -> !b.isEmpty()).forEach(b -> list.addObject().put("ip", b));
            client.print(client.callJson("PUT", "/v1/services/" + ApiClient.encode(name) + "/backends", body),
                "name", "backends");
        }
    }

    @Command(name = "neighbor", description = "Neighbors (IP to MAC) of the running gateway.",
        subcommands = {NeighborAdd.class, NeighborGet.class, NeighborRemove.class})
    public static final class Neighbor extends VerbGroup
    {
    }

    @Command(name = "add", description = "Add a static neighbor.")
    static final class NeighborAdd implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--interface", required = true)
        String iface;

        @Option(names = "--ip", required = true)
        String ip;

        @Option(names = "--mac", required = true)
        String mac;

        @Override
        public void run()
        {
            client.print(client.callJson("POST", "/v1/neighbors", ApiClient.MAPPER.createObjectNode()
                .put("interface", iface).put("ip", ip).put("mac", mac)), "interface", "ip", "mac", "static");
        }
    }

    @Command(name = "get", description = "List neighbors, static and learned.")
    static final class NeighborGet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Override
        public void run()
        {
            client.print(client.callJson("GET", "/v1/neighbors", null), "interface", "ip", "mac", "static");
        }
    }

    @Command(name = "remove", description = "Remove a neighbor.")
    static final class NeighborRemove implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--interface", required = true)
        String iface;

        @Option(names = "--ip", required = true)
        String ip;

        @Override
        public void run()
        {
            client.print(client.callJson("DELETE", "/v1/neighbors?interface=" + ApiClient.encode(iface) + "&ip=" +
                ApiClient.encode(ip), null), "removed");
        }
    }

    @Command(name = "runtime", description = "Per-stage packets, vectors, vector size and ns/packet of the running " +
        "gateway (VPP's show runtime).")
    public static final class Runtime implements Runnable
    {
        @Mixin
        ApiClient client;

        @Override
        public void run()
        {
            final JsonNode rows = client.callJson("GET", "/v1/runtime", null);
            if (client.json)
            {
                System.out.println(rows.toPrettyString());
                return;
            }
            final java.util.List<io.edgeplane.counters.DataplaneCounters.StageRuntime> table =
                new java.util.ArrayList<>();
            for (final JsonNode row : rows)
            {
                table.add(new io.edgeplane.counters.DataplaneCounters.StageRuntime(row.path("stage").asText(),
                    row.path("packets").asLong(), row.path("vectors").asLong(), row.path("nanos").asLong()));
            }
            System.out.print(RuntimeTable.format(table));
        }
    }

    @Command(name = "kubernetes", description = "What the gateway learns from Kubernetes: watches, leader, learned " +
        "records, skipped objects and why.")
    public static final class Kubernetes implements Runnable
    {
        @Mixin
        ApiClient client;

        @Override
        public void run()
        {
            final JsonNode view = client.callJson("GET", "/v1/kubernetes", null);
            if (client.json)
            {
                System.out.println(view.toPrettyString());
                return;
            }
            final StringBuilder out = new StringBuilder();
            out.append("node ").append(view.path("node").asText()).append(view.path("leader").asBoolean() ?
                " (leader: allocates LoadBalancer addresses)" : " (leader: " + view.path("leaderIdentity")
                .asText("none") + ")").append('\n');
            out.append(view.path("connected").asBoolean() ? "connected" : "NOT connected").append(", ")
                .append(view.path("synced").asBoolean() ? "synced" : "not synced yet").append(", last sync ")
                .append(view.path("lastSync").asText("never")).append(" (").append(view.path("lastSyncMicros")
                .asLong() / 1000).append(" ms)\n");
            view.path("resources").fields().forEachRemaining(e -> out.append(String.format("  %-15s %7d objects, " +
                "resourceVersion %s%s%n", e.getKey(), e.getValue().path("objects").asLong(),
                e.getValue().path("resourceVersion").asText("-"), e.getValue().path("watching").asBoolean() ? "" :
                " (not watching)")));
            out.append("learned:");
            view.path("learned").fields().forEachRemaining(e -> out.append(' ').append(e.getKey()).append(' ')
                .append(e.getValue().asLong()));
            out.append('\n');
            for (final JsonNode skip : view.path("skipped"))
            {
                out.append("skipped ").append(skip.path("kind").asText()).append(' ').append(skip.path("object")
                    .asText()).append(" [").append(skip.path("reason").asText()).append("]: ")
                    .append(skip.path("detail").asText()).append('\n');
            }
            out.append("errors ").append(view.path("errors").asLong());
            if (!view.path("lastError").isNull())
            {
                out.append(", last: ").append(view.path("lastError").asText());
            }
            System.out.println(out);
        }
    }

    @Command(name = "counters", description = "Counters of the running gateway.")
    public static final class Counters implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--prometheus", description = "print the Prometheus text format")
        boolean prometheus;

        @Override
        public void run()
        {
            if (prometheus)
            {
                System.out.print(client.call("GET", "/metrics", null));
                return;
            }
            final JsonNode counters = client.callJson("GET", "/v1/counters", null);
            if (client.json)
            {
                System.out.println(counters.toPrettyString());
                return;
            }
            final StringBuilder out = new StringBuilder();
            for (final String section : new String[] {"ports", "stages", "drops"})
            {
                out.append(section).append(":\n");
                final Iterator<Map.Entry<String, JsonNode>> fields = counters.path(section).fields();
                while (fields.hasNext())
                {
                    final Map.Entry<String, JsonNode> field = fields.next();
                    if (field.getValue().isObject())
                    {
                        out.append(String.format("  %-10s", field.getKey()));
                        field.getValue().fields().forEachRemaining(e ->
                            out.append(String.format(" %s %d", e.getKey(), e.getValue().asLong())));
                        out.append('\n');
                    }
                    else
                    {
                        out.append(String.format("  %-24s %d%n", field.getKey(), field.getValue().asLong()));
                    }
                }
            }
            System.out.print(out);
        }
    }

    @Command(name = "trace", description = "Packet tracing in the running gateway.",
        subcommands = {TraceStart.class, TraceGet.class})
    public static final class Trace extends VerbGroup
    {
    }

    @Command(name = "start", description = "Trace the next N packets (optionally to or from one address).")
    static final class TraceStart implements Runnable
    {
        @Mixin
        ApiClient client;

        @Option(names = "--packets", defaultValue = "10")
        int packets;

        @Option(names = "--address")
        String address;

        @Override
        public void run()
        {
            final ObjectNode body = ApiClient.MAPPER.createObjectNode().put("packets", packets);
            if (address != null)
            {
                body.put("address", address);
            }
            client.print(client.callJson("POST", "/v1/trace", body), "tracing");
        }
    }

    @Command(name = "get", description = "Print the trace records collected so far.")
    static final class TraceGet implements Runnable
    {
        @Mixin
        ApiClient client;

        @Override
        public void run()
        {
            System.out.print(client.call("GET", "/v1/trace", null));
        }
    }
}
