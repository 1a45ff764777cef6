package io.edgeplane.control.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.control.api.GatewayProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A measurement, not a test (it asserts nothing about time; run by {@code bench/kubernetes-converge.sh}): a gateway
 * process starting against an API server holding {@code services} Services with {@code endpoints} endpoints each
 * (EndpointSlices of up to 100), time until all are applied, then the delay from an EndpointSlice change to the
 * dataplane choosing the new endpoint (p50, p99, max; polled every millisecond through the API), and the
 * gateway's peak RSS.
 */
@EnabledIfSystemProperty(named = "edgeplane.measure", matches = "true")
class KubernetesConvergeMeasure
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    private static String clusterIp(final int i)
    {
        return "10.96." + (i >> 8) + "." + (i & 0xFF);
    }

    private static String endpoint(final int i, final int e)
    {
        final int n = i * 16 + e;
        return "10." + (128 + (n >> 16)) + "." + (n >> 8 & 0xFF) + "." + (n & 0xFF | 1);
    }

    @Test
    void measure() throws Exception
    {
        final int services = Integer.getInteger("edgeplane.measure.services", 10_000);
        final int endpoints = Integer.getInteger("edgeplane.measure.endpoints", 10);
        final int changes = Integer.getInteger("edgeplane.measure.changes", 200);
        final int maglev = Integer.getInteger("edgeplane.measure.maglev", 4099);
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [ { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" } ],
              "serviceNetwork": { "serviceCIDR": "10.96.0.0/12", "maglevTableSize": %d } }
            """.formatted(maglev));
        try (MockCluster cluster = new MockCluster())
        {
            final long createStart = System.nanoTime();
            final ExecutorService pool = Executors.newFixedThreadPool(8);
            final List<Future<?>> created = new ArrayList<>();
            for (int i = 0; i < services; i++)
            {
                final int s = i;
                created.add(pool.submit(() ->
                {
                    cluster.client().services().resource(MockCluster.service("svc" + s, "ClusterIP", clusterIp(s), 80,
                        8080, null)).create();
                    final List<String> ips = new ArrayList<>();
                    for (int e = 0; e < endpoints; e++)
                    {
                        ips.add(endpoint(s, e));
                    }
                    cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("svc" + s,
                        "svc" + s + "-a", 8080, ips, List.of())).create();
                    return null;
                }));
            }
            for (final Future<?> future : created)
            {
                future.get();
            }
            pool.shutdown();
            System.out.printf("measure: API server holds %d services and %d endpoints (created in %.1f s)%n",
                services, services * endpoints, (System.nanoTime() - createStart) / 1e9);

            final long launch = System.nanoTime();
            try (GatewayProcess gateway = GatewayProcess.start(List.of(), "--config", config.toString(), "--state",
                dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", "none", "--kubernetes",
                "--kubeconfig", cluster.kubeconfig(dir).toString(), "--node", "node-a"))
            {
                final long apiUp = System.nanoTime();
                JsonNode view;
                do
                {
                    Thread.sleep(10);
                    view = MAPPER.readTree(gateway.request("GET", "/v1/kubernetes", null).body());
                }
                while (view.get("learned").get("services").asInt() < services &&
                    System.nanoTime() - apiUp < TimeUnit.MINUTES.toNanos(10));
                final long converged = System.nanoTime();
                System.out.printf("measure: converged: %d services applied %.2f s after the process started " +
                    "(%.2f s after its API was up); last pass %d ms; RSS peak %d MiB%n",
                    view.get("learned").get("services").asInt(), (converged - launch) / 1e9,
                    (converged - apiUp) / 1e9, view.get("lastSyncMicros").asLong() / 1000,
                    peakRssKib(gateway.pid()) / 1024);

                final Random random = new Random(14);
                final long[] delays = new long[changes];
                final long[] acknowledged = new long[changes];
                for (int c = 0; c < changes; c++)
                {
                    final int s = random.nextInt(services);
                    final String fresh = "10.250." + (c >> 8) + "." + (c & 0xFF | 1);
                    final long start = System.nanoTime();
                    cluster.client().discovery().v1().endpointSlices().resource(MockCluster.slice("svc" + s,
                        "svc" + s + "-a", 8080, List.of(fresh), List.of())).update();
                    final long ack = System.nanoTime();
                    final String query = "/v1/services/backend?address=" + clusterIp(s) +
                        "&port=80&source=10.1.0.7&sourcePort=40000";
                    while (!fresh.equals(MAPPER.readTree(gateway.request("GET", query, null).body()).path("backend")
                        .asText()))
                    {
                        if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(60))
                        {
                            throw new AssertionError("change " + c + " not applied in 60 s");
                        }
                        Thread.sleep(1);
                    }
                    delays[c] = System.nanoTime() - start;
                    acknowledged[c] = System.nanoTime() - ack;
                }
                Arrays.sort(delays);
                Arrays.sort(acknowledged);
                view = MAPPER.readTree(gateway.request("GET", "/v1/kubernetes", null).body());
                System.out.printf("measure: the gateway's last pass %d us: translating %d us, applying %d us%n",
                    view.get("lastSyncMicros").asLong(), view.get("lastTranslateMicros").asLong(),
                    view.get("lastApplyMicros").asLong());
                System.out.printf("measure: from the API server's acknowledgement: p50 %.1f ms, p99 %.1f ms%n",
                    acknowledged[changes / 2] / 1e6, acknowledged[changes * 99 / 100] / 1e6);
                System.out.printf("measure: EndpointSlice change (from the update request) -> dataplane: p50 %.1f ms, p99 %.1f ms, max %.1f ms " +
                    "(%d changes); RSS peak %d MiB%n", delays[changes / 2] / 1e6, delays[changes * 99 / 100] / 1e6,
                    delays[changes - 1] / 1e6, changes, peakRssKib(gateway.pid()) / 1024);
            }
        }
    }

    private static long peakRssKib(final long pid) throws Exception
    {
        for (final String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        {
            if (line.startsWith("VmHWM:"))
            {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
