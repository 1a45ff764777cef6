package io.edgeplane.lb;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.Json;
import io.edgeplane.config.ServiceConfig;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.route.RoutingTable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A service change rebuilds only the Maglev tables whose backend set changed (thousands of services learned from
 * Kubernetes change one at a time), and what it builds is what a build from scratch gives.
 */
class ServiceTableReuseTest
{
    private static final String PORTS = """
        { "ports": [ { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" } ],
          "serviceNetwork": { "serviceCIDR": "10.96.0.0/12", "maglevTableSize": 1021 } }
        """;

    private static ServiceConfig service(final String name, final String clusterIp, final String... backends)
        throws io.edgeplane.config.ConfigException
    {
        final StringBuilder list = new StringBuilder();
        for (final String backend : backends)
        {
            list.append(list.isEmpty() ? "" : ",").append("{\"ip\":\"").append(backend).append("\"}");
        }
        return Json.bind(parse("""
            { "name": "%s", "clusterIP": "%s", "ports": [ { "port": 80 } ], "backends": [ %s ] }
            """.formatted(name, clusterIp, list)), ServiceConfig.class);
    }

    private static com.fasterxml.jackson.databind.JsonNode parse(final String json)
    {
        try
        {
            return Json.STRICT.readTree(json);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static Services services(final DataplaneConfig config)
    {
        final PortTable ports = new PortTable(config.ports());
        return new Services(ports, new RoutingTable(ports, 1024, 64), 1021);
    }

    private static int[] table(final Services services, final String clusterIp)
    {
        final ServiceTable table = services.table();
        return table.maglevTable(table.lookup(6, Ipv4Address.parse(clusterIp), 80));
    }

    @Test
    void onlyTheChangedBackendSetIsRebuilt() throws Exception
    {
        final DataplaneConfig config = ConfigLoader.parse(PORTS);
        final Services services = services(config);
        final List<ServiceConfig> set = new ArrayList<>(List.of(
            service("a", "10.96.0.1", "10.244.1.1", "10.244.1.2", "10.244.1.3"),
            service("b", "10.96.0.2", "10.244.2.1", "10.244.2.2"),
            service("c", "10.96.0.3", "10.244.1.3", "10.244.1.1", "10.244.1.2")));
        services.configure(config.serviceNetwork(), set);
        final int[] a = table(services, "10.96.0.1");
        final int[] b = table(services, "10.96.0.2");
        assertSame(a, table(services, "10.96.0.3"), "the same backend set (in any order) shares one table");

        set.set(1, service("b", "10.96.0.2", "10.244.2.1", "10.244.2.2", "10.244.2.3"));
        services.configure(config.serviceNetwork(), set);
        assertSame(a, table(services, "10.96.0.1"), "an unchanged service keeps its table");
        final int[] changed = table(services, "10.96.0.2");
        assertNotSame(b, changed);

        final Services fresh = services(config);
        fresh.configure(config.serviceNetwork(), List.of(set.get(1)));
        assertArrayEquals(table(fresh, "10.96.0.2"), changed, "the rebuilt table is what a fresh build gives");

        set.set(1, service("b", "10.96.0.2", "10.244.2.1", "10.244.2.2"));
        services.configure(config.serviceNetwork(), set);
        assertArrayEquals(b, table(services, "10.96.0.2"), "back to the old set, back to the old table");
    }

    @Test
    void aDepartedBackendStaysIndexedForRepliesForItsDrainTimeOnly() throws Exception
    {
        final DataplaneConfig config = ConfigLoader.parse(PORTS);
        final Services services = services(config);
        services.indexBackends();
        final int leaving = Ipv4Address.parse("10.244.1.2");
        final long t0 = 1_000_000_000L;
        services.configure(config.serviceNetwork(), List.of(service("a", "10.96.0.1", "10.244.1.1", "10.244.1.2")),
            t0);
        assertTrue(services.table().isBackendEndpoint(leaving, 6, 80));
        assertFalse(services.table().isBackendEndpoint(leaving, 17, 80), "only its own protocol and port");
        services.configure(config.serviceNetwork(), List.of(service("a", "10.96.0.1", "10.244.1.1")), t0 + 1);
        assertTrue(services.table().isBackendEndpoint(leaving, 6, 80), "just left: its replies still go home");
        assertTrue(services.table().isBackendAddress(leaving));
        // Later changes carry it with the time it left, not the time of the change.
        services.configure(config.serviceNetwork(), List.of(service("a", "10.96.0.1", "10.244.1.1", "10.244.1.3")),
            t0 + ServiceTable.DEPARTED_NANOS);
        assertTrue(services.table().isBackendEndpoint(leaving, 6, 80));
        services.configure(config.serviceNetwork(), List.of(service("a", "10.96.0.1", "10.244.1.1")),
            t0 + 1 + ServiceTable.DEPARTED_NANOS);
        assertFalse(services.table().isBackendEndpoint(leaving, 6, 80), "forgotten after the drain time");
        assertFalse(services.table().isBackendAddress(leaving));
        assertTrue(services.table().isBackendEndpoint(Ipv4Address.parse("10.244.1.3"), 6, 80),
            "one that left later is still remembered");
        // Listed again, then gone again: a new departure, counted from now.
        final long t1 = t0 + 10 * ServiceTable.DEPARTED_NANOS;
        services.configure(config.serviceNetwork(), List.of(service("a", "10.96.0.1", "10.244.1.2")), t1);
        services.configure(config.serviceNetwork(), List.of(service("a", "10.96.0.1", "10.244.1.1")), t1 + 1);
        assertTrue(services.table().isBackendEndpoint(leaving, 6, 80));
        assertFalse(services.table().isBackendEndpoint(Ipv4Address.parse("10.244.1.3"), 6, 80));
    }
}
