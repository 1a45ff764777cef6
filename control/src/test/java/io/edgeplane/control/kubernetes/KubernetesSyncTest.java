package io.edgeplane.control.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.gateway.Gateway;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway learning from an API server (fabric8's mock server in CRUD mode: objects stored, listed and watched
 * like a real one). The gateway runs in this JVM without devices; what it serves is read from the tables its worker
 * uses ({@code GET /v1/services/backend}: the frontend lookup and the Maglev choice of the packet path).
 */
class KubernetesSyncTest
{
    private static final String CONFIG = """
        { "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" },
            { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.244.1.1/24" },
            { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
              "ipv4": "192.168.42.1/24" } ],
          "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.120", "serviceCIDR": "10.96.0.0/12",
                              "clusterSources": ["10.244.0.0/16"], "maglevTableSize": 1021 },
          "services": [ { "name": "pinned.default", "type": "ClusterIP", "clusterIP": "10.96.0.99",
              "ports": [ { "protocol": "TCP", "port": 80 } ], "backends": [ { "ip": "10.244.1.50" } ] } ] }
        """;

    @TempDir
    Path dir;
    private MockCluster cluster;
    private Gateway gateway;

    @BeforeEach
    void setUp() throws Exception
    {
        cluster = new MockCluster();
        gateway = start();
    }

    private Gateway start() throws Exception
    {
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final Gateway started = new Gateway(config, dir.resolve("state"), new InetSocketAddress("127.0.0.1", 0), null,
            Gateway.Io.NONE);
        started.startKubernetes(cluster.config(), KubernetesSettings.resolve(config, "node1", null, "default"));
        return started;
    }

    @AfterEach
    void tearDown()
    {
        if (gateway != null)
        {
            gateway.close();
        }
        cluster.close();
    }

    private static void await(final String what, final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The backend a new flow from 10.244.1.7:{@code sourcePort} to the frontend gets, or null; "absent" if none. */
    private String backend(final String address, final int port, final int sourcePort)
    {
        try
        {
            final JsonNode answer = gateway.control().get("services", "backend", Map.of("address", address,
                "protocol", "tcp", "port", String.valueOf(port), "source", "10.244.1.7",
                "sourcePort", String.valueOf(sourcePort)));
            return answer.get("backend").isNull() ? null : answer.get("backend").asText();
        }
        catch (final ApiException ex)
        {
            assertEquals(404, ex.status(), ex.getMessage());
            return "absent";
        }
    }

    private Set<String> chosen(final String address, final int port)
    {
        final Set<String> out = new HashSet<>();
        for (int p = 1024; p < 3024; p++)
        {
            out.add(backend(address, port, p));
        }
        return out;
    }

    private JsonNode view()
    {
        try
        {
            return gateway.status().kubernetes();
        }
        catch (final ApiException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private void createWeb(final List<String> ready) throws InterruptedException
    {
        cluster.client().services().resource(MockCluster.service("web", "ClusterIP", "10.96.0.10", 80, "http", null))
            .create();
        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-a", 8080, ready,
            List.of("10.244.1.99"))).create();
    }

    @Test
    void serviceAndSliceAreServedAndEndpointChangesMoveOnlyTheChoice() throws Exception
    {
        await("first sync", () -> view().get("synced").asBoolean());
        createWeb(List.of("10.244.1.10", "10.244.1.11", "10.244.1.12"));
        await("web served with its endpoints", () -> backend("10.96.0.10", 80, 5000) != null &&
            !"absent".equals(backend("10.96.0.10", 80, 5000)));
        // The named target port resolved through the slice; the not-ready endpoint never chosen.
        assertEquals(8080, gateway.control().get("services", "backend", Map.of("address", "10.96.0.10",
            "port", "80", "source", "10.244.1.7", "sourcePort", "1")).get("targetPort").asInt());
        assertEquals(Set.of("10.244.1.10", "10.244.1.11", "10.244.1.12"), chosen("10.96.0.10", 80));

        final Set<String> five = Set.of("10.244.1.10", "10.244.1.11", "10.244.1.12", "10.244.1.13", "10.244.1.14");
        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-a", 8080,
            List.copyOf(five), List.of())).update();
        await("five backends", () -> chosen("10.96.0.10", 80).equals(five));

        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-a", 8080,
            List.of("10.244.1.11", "10.244.1.14"), List.of())).update();
        await("two backends", () -> chosen("10.96.0.10", 80).equals(Set.of("10.244.1.11", "10.244.1.14")));

        // Learned, not configured: neither in the running config (the snapshot's source) nor removable by the API.
        assertFalse(gateway.control().runningConfig().toString().contains("web.default"));
        assertTrue(gateway.control().runningConfig().toString().contains("pinned.default"));
        final ApiException refused = assertThrows(ApiException.class, () -> gateway.control().remove("services",
            Map.of("name", "web.default")));
        assertEquals(409, refused.status());
        assertEquals(1, view().get("learned").get("services").asInt());

        cluster.client().services().inNamespace("default").withName("web").delete();
        await("web gone", () -> "absent".equals(backend("10.96.0.10", 80, 5000)));
        assertEquals("10.244.1.50", backend("10.96.0.99", 80, 5000), "the configured service stays");
    }

    @Test
    void loadBalancerGetsAnAddressFromTheRangeWrittenToItsStatus() throws Exception
    {
        await("leader", () -> view().get("leader").asBoolean());
        cluster.client().services().resource(MockCluster.service("shop", "LoadBalancer", "10.96.0.20", 443, 8443,
            30443)).create();
        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("shop", "shop-a", 8443,
            List.of("10.244.1.20"), List.of())).create();
        await("status written", () ->
        {
            final Service s = cluster.client().services().inNamespace("default").withName("shop").get();
            return s.getStatus() != null && s.getStatus().getLoadBalancer() != null &&
                s.getStatus().getLoadBalancer().getIngress() != null &&
                !s.getStatus().getLoadBalancer().getIngress().isEmpty();
        });
        final String vip = cluster.client().services().inNamespace("default").withName("shop").get().getStatus()
            .getLoadBalancer().getIngress().get(0).getIp();
        final int last = Integer.parseInt(vip.substring(vip.lastIndexOf('.') + 1));
        assertTrue(vip.startsWith("10.1.0.") && last >= 100 && last <= 120, vip);
        // The status is written when the service is learned; its slice may land in a later batch (the backend is
        // null until then, the service already present), so wait for the endpoint rather than race it.
        await("shop served at its VIP", () -> "10.244.1.20".equals(backend(vip, 443, 4000)));
        assertEquals("10.244.1.20", backend("10.1.0.1", 30443, 4000), "the node port");
        assertEquals(vip, gateway.control().list("services", Map.of("name", "shop.default")).get(0)
            .get("loadBalancerIP").asText());

        // allocateLoadBalancerNodePorts: false, and Kubernetes gave no node port: the VIP only, no node port here.
        cluster.client().services().resource(new ServiceBuilder(MockCluster.service("lean", "LoadBalancer",
            "10.96.0.21", 80, 8080, null)).editSpec().withAllocateLoadBalancerNodePorts(false).endSpec().build())
            .create();
        await("lean served at its own VIP", () ->
        {
            try
            {
                final JsonNode lean = gateway.control().list("services", Map.of("name", "lean.default")).path(0);
                return lean.has("loadBalancerIP") && !lean.get("loadBalancerIP").asText().equals(vip);
            }
            catch (final ApiException ex)
            {
                throw new AssertionError(ex);
            }
        });
        final JsonNode lean = gateway.control().list("services", Map.of("name", "lean.default")).get(0);
        assertFalse(lean.get("ports").get(0).has("nodePort"), lean.toString());
    }

    @Test
    void nodesBecomeTunnelRoutesAndOurNodeIsPublished() throws Exception
    {
        cluster.client().nodes().resource(MockCluster.node("node1", "10.244.1.0/24", "10.3.0.1", null)).create();
        cluster.client().nodes().resource(MockCluster.node("node2", "10.244.2.0/24", "10.3.0.2",
            "02:00:00:00:42:02")).create();
        await("route to node2's pods", () -> routes().contains("10.244.2.0/24 via 10.244.2.0"));
        final JsonNode neighbor = neighbors("10.244.2.0");
        assertEquals("02:00:00:00:42:02", neighbor.get("mac").asText());
        assertEquals("10.3.0.2", neighbor.get("vtep").asText());
        assertFalse(routes().contains("10.244.1.0/24"), "our own pods are not behind the tunnel");
        await("our VTEP published", () ->
        {
            final Map<String, String> annotations = cluster.client().nodes().withName("node1").get().getMetadata()
                .getAnnotations();
            return annotations != null && "{\"VNI\":42,\"VtepMAC\":\"02:00:00:00:42:01\"}".equals(
                annotations.get(KubernetesModel.FLANNEL_BACKEND_DATA)) &&
                "10.3.0.1".equals(annotations.get(KubernetesModel.FLANNEL_PUBLIC_IP));
        });

        cluster.client().nodes().resource(MockCluster.node("node3", "10.244.3.0/24", "10.3.0.3",
            "02:00:00:00:42:03")).create();
        await("node3", () -> routes().contains("10.244.3.0/24 via 10.244.3.0"));
        cluster.client().nodes().withName("node2").delete();
        await("node2 gone", () -> !routes().contains("10.244.2.0/24"));
        await("its neighbor went with it", () ->
        {
            try
            {
                return neighbors("10.244.2.0") == null;
            }
            catch (final ApiException ex)
            {
                throw new AssertionError(ex);
            }
        });
        assertTrue(routes().contains("10.244.3.0/24 via 10.244.3.0"));
    }

    private String routes()
    {
        final StringBuilder out = new StringBuilder();
        try
        {
            for (final JsonNode route : gateway.control().list("routes", Map.of("interface", "vxlan0")))
            {
                out.append(route.get("prefix").asText()).append(" via ").append(route.get("nextHop").asText())
                    .append('\n');
            }
        }
        catch (final ApiException ex)
        {
            throw new AssertionError(ex);
        }
        return out.toString();
    }

    private JsonNode neighbors(final String ip) throws ApiException
    {
        for (final JsonNode neighbor : gateway.control().list("neighbors", Map.of("interface", "vxlan0")))
        {
            if (neighbor.get("ip").asText().equals(ip))
            {
                return neighbor;
            }
        }
        return null;
    }

    @Test
    void malformedObjectsAreSkippedWithACountedReasonAndTheRestApplies() throws Exception
    {
        await("first sync", () -> view().get("synced").asBoolean());
        cluster.client().services().resource(new ServiceBuilder(MockCluster.service("sctp", "ClusterIP",
            "10.96.0.30", 80, 80, null)).editSpec().editFirstPort().withProtocol("SCTP").endPort().endSpec().build())
            .create();
        cluster.client().services().resource(MockCluster.service("noport", "ClusterIP", "10.96.0.31", 80,
            "missing", null)).create();
        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("noport", "noport-a", 0,
            List.of("10.244.1.31"), List.of())).create();
        cluster.client().services().resource(new ServiceBuilder(MockCluster.service("outside", "LoadBalancer",
            "10.96.0.32", 80, 80, 30032)).editSpec().withLoadBalancerIP("192.0.2.1").endSpec().build()).create();
        cluster.client().services().resource(MockCluster.service("pinned", "ClusterIP", "10.96.0.33", 80, 80,
            null)).create();
        cluster.client().services().resource(new ServiceBuilder().withNewMetadata().withName("ports")
            .withNamespace("default").endMetadata().withNewSpec().withClusterIP("10.96.0.34").withPorts(
                new ServicePortBuilder().withPort(70000).withTargetPort(new IntOrString(80)).build()).endSpec()
            .build()).create();
        cluster.client().nodes().resource(MockCluster.node("node9", "not-a-cidr", "10.3.0.9", "02:00:00:00:42:09"))
            .create();
        // Headless and ExternalName services are not skipped: there is nothing to serve, by design.
        cluster.client().services().resource(MockCluster.service("headless", "ClusterIP", "None", 80, 80, null))
            .create();
        cluster.client().services().resource(new ServiceBuilder().withNewMetadata().withName("external")
            .withNamespace("default").endMetadata().withNewSpec().withType("ExternalName")
            .withExternalName("db.example.com").endSpec().build()).create();
        createWeb(List.of("10.244.1.10"));
        await("web served", () -> "10.244.1.10".equals(backend("10.96.0.10", 80, 5000)));
        await("skips counted", () -> view().get("skipped").size() == 6);
        assertEquals(0, gateway.control().list("services", Map.of("name", "headless.default")).size());
        assertEquals(0, gateway.control().list("services", Map.of("name", "external.default")).size());
        final JsonNode counts = view().get("skipCounts");
        assertEquals(1, counts.get("bad-protocol").asInt(), counts.toString());
        assertEquals(2, counts.get("bad-port").asInt(), counts.toString()); // port 70000; 'missing' unresolvable
        assertEquals(1, counts.get("rejected").asInt(), counts.toString()); // 192.0.2.1 outside the range
        assertEquals(1, counts.get("conflict").asInt(), counts.toString()); // pinned.default is the operator's
        assertEquals(1, counts.get("bad-address").asInt(), counts.toString());
        assertEquals("absent", backend("10.96.0.30", 80, 1));
        assertEquals("10.244.1.50", backend("10.96.0.99", 80, 1), "the operator's service is untouched");
        final String metrics = gateway.status().prometheus();
        assertTrue(metrics.contains("edgeplane_kubernetes_skipped_total{reason=\"bad-port\"} 2"), metrics);
        assertTrue(metrics.contains("edgeplane_kubernetes_connected 1"), metrics);
        // The CLI shows the same, for people.
        final java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        final java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try
        {
            assertEquals(0, io.edgeplane.control.cli.Main.execute("kubernetes", "--api", "http://127.0.0.1:" +
                gateway.apiPort()));
        }
        finally
        {
            System.setOut(stdout);
        }
        final String table = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(table.contains("skipped Service default/sctp [bad-protocol]: port 80: protocol SCTP"), table);
        assertTrue(table.contains("node node1 (leader"), table);
        // A skipped object that gets fixed is applied.
        cluster.client().services().resource(MockCluster.service("sctp", "ClusterIP", "10.96.0.30", 80, 80, null))
            .update();
        await("fixed service served", () -> !"absent".equals(backend("10.96.0.30", 80, 1)));
    }

    @Test
    void forwardingContinuesWhileTheApiServerIsAwayAndStateConverges() throws Exception
    {
        createWeb(List.of("10.244.1.10", "10.244.1.11"));
        await("web served", () -> chosen("10.96.0.10", 80).size() == 2);
        // All three watches up first: an outage is one of a connection the sync had (web can be served from the
        // services and slices watches while the nodes watch is still being set up, and a stop then left it never
        // connected: no outage to count; seen once in CI).
        await("watching", () -> view().get("connected").asBoolean());
        cluster.stop();
        await("disconnected seen", () -> !view().get("connected").asBoolean());
        assertEquals(Set.of("10.244.1.10", "10.244.1.11"), chosen("10.96.0.10", 80), "what it knew is kept");
        Thread.sleep(1500);
        assertEquals(Set.of("10.244.1.10", "10.244.1.11"), chosen("10.96.0.10", 80));
        assertFalse(view().get("connected").asBoolean());
        await("outage counted", () -> view().get("errors").asLong() > 0);
        cluster.restart();
        await("reconnected", () -> view().get("connected").asBoolean());
        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-a", 8080,
            List.of("10.244.1.12"), List.of())).update();
        await("converged after the restart", () -> chosen("10.96.0.10", 80).equals(Set.of("10.244.1.12")));
    }

    @Test
    void aRestartedGatewayRelearnsFromTheApiServerNotFromItsJournal() throws Exception
    {
        createWeb(List.of("10.244.1.10"));
        await("web served", () -> "10.244.1.10".equals(backend("10.96.0.10", 80, 1)));
        gateway.close();
        gateway = null;
        cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-a", 8080,
            List.of("10.244.1.11"), List.of())).update();
        gateway = start();
        await("relearned", () -> "10.244.1.11".equals(backend("10.96.0.10", 80, 1)));
        assertNotNull(view().get("resources").get("services").get("resourceVersion").asText(null));
    }

    @Test
    void badKubernetesOptionsAreRefusedBeforeTheGatewayTouchesItsState() throws Exception
    {
        final Path config = dir.resolve("config.json");
        java.nio.file.Files.writeString(config, CONFIG);
        final Path badKubeconfig = dir.resolve("bad-kubeconfig");
        java.nio.file.Files.writeString(badKubeconfig, "clusters: [");
        final String[][] cases = {
            {"--kubeconfig", dir.resolve("missing").toString(), "cannot read the kubeconfig"},
            {"--kubeconfig", badKubeconfig.toString(), "is not valid"},
            {"--tunnel", "Port1", "--tunnel: Port1 is not a vxlan port of the config"}};
        for (final String[] bad : cases)
        {
            final java.io.StringWriter err = new java.io.StringWriter();
            final Path state = dir.resolve("state-" + bad[0].substring(2));
            assertEquals(1, io.edgeplane.control.cli.Main.execute(new java.io.PrintWriter(err, true), "gateway",
                "--config", config.toString(), "--state", state.toString(), "--api", "127.0.0.1:0", "--io", "none",
                "--kubernetes", bad[0], bad[1]));
            assertTrue(err.toString().contains(bad[2]), err.toString());
            assertFalse(java.nio.file.Files.exists(state), "no state made");
        }
        final java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(1, io.edgeplane.control.cli.Main.execute(new java.io.PrintWriter(err, true), "gateway",
            "--config", config.toString(), "--api", "127.0.0.1:0", "--io", "none", "--node", "n1"));
        assertTrue(err.toString().contains("go with --kubernetes"), err.toString());
    }
}
