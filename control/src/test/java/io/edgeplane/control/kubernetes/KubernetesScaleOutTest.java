package io.edgeplane.control.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.control.api.GatewayProcess;
import io.fabric8.kubernetes.api.model.Service;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale-out without shared state: two gateway processes (two nodes' gateways) fed by the same API server agree on
 * the LoadBalancer address (one allocates it, both serve it) and choose the same backend for each of 10,000 flows,
 * because the same service and backend set give the same Maglev table everywhere.
 */
class KubernetesScaleOutTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void twoGatewaysChooseTheSameBackendForEveryFlow() throws Exception
    {
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
                { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.244.1.1/24" } ],
              "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.120", "serviceCIDR": "10.96.0.0/12" } }
            """);
        try (MockCluster cluster = new MockCluster())
        {
            final Path kubeconfig = cluster.kubeconfig(dir);
            final List<String> backends = new ArrayList<>();
            for (int i = 0; i < 7; i++)
            {
                backends.add("10.244." + (2 + i % 3) + "." + (10 + i));
            }
            cluster.client().services().resource(MockCluster.service("web", "LoadBalancer", "10.96.0.10", 80, 8080,
                30080)).create();
            cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-a", 8080,
                backends.subList(0, 4), List.of())).create();
            cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("web", "web-b", 8080,
                backends.subList(4, 7), List.of())).create();
            try (GatewayProcess a = start(config, kubeconfig, "node-a");
                 GatewayProcess b = start(config, kubeconfig, "node-b"))
            {
                final String vip = awaitAddress(cluster);
                for (final GatewayProcess gateway : List.of(a, b))
                {
                    await(gateway, "/v1/services/backend?address=" + vip + "&port=80&source=198.51.100.1" +
                        "&sourcePort=1");
                }
                final JsonNode viewA = MAPPER.readTree(a.request("GET", "/v1/kubernetes", null).body());
                final JsonNode viewB = MAPPER.readTree(b.request("GET", "/v1/kubernetes", null).body());
                assertTrue(viewA.get("leader").asBoolean() ^ viewB.get("leader").asBoolean(),
                    "exactly one allocates: " + viewA + " " + viewB);

                final Random random = new Random(14);
                final Set<String> seen = new HashSet<>();
                for (int flow = 0; flow < 10_000; flow++)
                {
                    final String query = "/v1/services/backend?address=" + vip + "&protocol=tcp&port=80&source=" +
                        (random.nextInt(200) + 1) + "." + random.nextInt(256) + "." + random.nextInt(256) + "." +
                        (random.nextInt(254) + 1) + "&sourcePort=" + (1024 + random.nextInt(64_000));
                    final String fromA = MAPPER.readTree(a.request("GET", query, null).body()).get("backend").asText();
                    final String fromB = MAPPER.readTree(b.request("GET", query, null).body()).get("backend").asText();
                    assertEquals(fromA, fromB, query);
                    seen.add(fromA);
                }
                assertEquals(new HashSet<>(backends), seen, "every backend gets flows");
            }
        }
    }

    private GatewayProcess start(final Path config, final Path kubeconfig, final String node) throws Exception
    {
        return GatewayProcess.start(List.of(), "--config", config.toString(), "--state",
            dir.resolve("state-" + node).toString(), "--api", "127.0.0.1:0", "--io", "none", "--kubernetes",
            "--kubeconfig", kubeconfig.toString(), "--node", node);
    }

    private static String awaitAddress(final MockCluster cluster) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline)
        {
            final Service service = cluster.client().services().inNamespace("default").withName("web").get();
            if (service.getStatus() != null && service.getStatus().getLoadBalancer() != null &&
                service.getStatus().getLoadBalancer().getIngress() != null &&
                !service.getStatus().getLoadBalancer().getIngress().isEmpty())
            {
                return service.getStatus().getLoadBalancer().getIngress().get(0).getIp();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no LoadBalancer address written");
    }

    private static void await(final GatewayProcess gateway, final String query) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline)
        {
            final GatewayProcess.Response response = gateway.request("GET", query, null);
            if (response.status() == 200 && !MAPPER.readTree(response.body()).get("backend").isNull())
            {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not served by " + gateway.base() + ": " + gateway.output());
    }
}
