package io.edgeplane.control.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.control.api.GatewayProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end with Kubernetes as the source of truth: the API server (fabric8's mock, CRUD mode) and the live gateway
 * (AF_PACKET) run in the gateway's namespace; a Service and its EndpointSlice are created there with plain HTTP (as
 * kubectl does); the gateway allocates the LoadBalancer address, writes it to the Service's status and serves it:
 * a client in its own namespace (default offloads and sysctls) fetches a page from the pod through that address.
 * While the API server is away the client is still served; when it is back, the pod moves (the slice names another
 * one) and the client follows; the service goes and its address with it. Needs root (CI runs as root); skipped with
 * a visible reason otherwise; namespaces removed by name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayKubernetesNetnsTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String GW = "ept-kgw";
    private static final String CLIENT = "ept-kcl";
    private static final String[] PODS = {"ept-kp1", "ept-kp2"};

    private final Netns netns = new Netns();
    private final List<Process> processes = new ArrayList<>();
    private Path dir;
    private GatewayProcess gateway;
    private String api;
    private java.io.Writer mockControl;
    private final java.util.concurrent.BlockingQueue<String> mockAnswers =
        new java.util.concurrent.LinkedBlockingQueue<>();

    @BeforeAll
    void setUp() throws Exception
    {
        Assumptions.assumeTrue(Netns.available(), "needs root and iproute2 for network namespaces (CI runs as root)");
        dir = Files.createTempDirectory("edgeplane-k8s");
        netns.add(GW);
        netns.add(CLIENT);
        Netns.veth(GW, CLIENT, "ept-kcl0", "10.1.0.10/24", "ept-kq1", "02:00:00:00:01:01");
        Netns.must("ip", "-n", CLIENT, "route", "add", "default", "via", "10.1.0.1");
        for (int i = 0; i < PODS.length; i++)
        {
            netns.add(PODS[i]);
            final int subnet = 4 + i;
            Netns.veth(GW, PODS[i], "ept-kp" + (i + 1) + "0", "10." + subnet + ".0.2/24", "ept-kq" + subnet,
                "02:00:00:00:0" + subnet + ":01");
            Netns.must("ip", "-n", PODS[i], "route", "add", "default", "via", "10." + subnet + ".0.1");
            final Path www = Files.createDirectories(dir.resolve("www" + i));
            Files.writeString(www.resolve("whoami"), "pod" + (i + 1));
            processes.add(new ProcessBuilder("ip", "netns", "exec", PODS[i], "python3", "-m", "http.server",
                "8080", "--bind", "10." + subnet + ".0.2", "--directory", www.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("http" + i + ".log").toFile()).start());
        }
        final List<String> mock = new ArrayList<>(List.of("ip", "netns", "exec", GW));
        mock.addAll(GatewayProcess.javaCommand().subList(0, GatewayProcess.javaCommand().size() - 1));
        mock.add("io.edgeplane.control.kubernetes.MockApiServerMain");
        mock.add(dir.resolve("kube").toString());
        final Process server = new ProcessBuilder(mock).redirectErrorStream(true).start();
        processes.add(server);
        final BufferedReader reader = new BufferedReader(new InputStreamReader(server.getInputStream(),
            StandardCharsets.UTF_8));
        String line;
        while ((line = reader.readLine()) != null && !line.startsWith("mock api "))
        {
            // the mock server's own log lines
        }
        assertTrue(line != null, "the mock API server did not start");
        api = line.substring("mock api ".length());
        mockControl = new java.io.OutputStreamWriter(server.getOutputStream(), StandardCharsets.UTF_8);
        final Thread drain = new Thread(() ->
        {
            try
            {
                String answer;
                while ((answer = reader.readLine()) != null)
                {
                    if (answer.equals("stopped") || answer.equals("started"))
                    {
                        mockAnswers.add(answer);
                    }
                }
            }
            catch (final IOException ignored)
            {
                // ended
            }
        });
        drain.setDaemon(true);
        drain.start();
        final Path config = dir.resolve("config.json");
        Files.writeString(config, """
            { "ports": [
                { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "ept-kq1" },
                { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.4.0.1/24", "device": "ept-kq4" },
                { "name": "Port5", "mac": "02:00:00:00:05:01", "ipv4": "10.5.0.1/24", "device": "ept-kq5" } ],
              "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.120", "serviceCIDR": "10.96.0.0/12",
                                  "clusterSources": ["10.4.0.0/16"] } }
            """);
        gateway = GatewayProcess.start(List.of("ip", "netns", "exec", GW), "--config", config.toString(),
            "--state", dir.resolve("state").toString(), "--api", "127.0.0.1:0", "--io", "afpacket",
            "--kubernetes", "--kubeconfig", dir.resolve("kube/kubeconfig").toString(), "--node", "edge-1");
    }

    @AfterAll
    void tearDown()
    {
        processes.forEach(Process::destroyForcibly);
        if (gateway != null)
        {
            gateway.close();
        }
        netns.cleanUp();
    }

    /** kubectl's job, with curl in the gateway's namespace. */
    private Netns.Result kube(final String method, final String path, final String body) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("curl", "-s", "-X", method, "-H",
            "Content-Type: application/json", api + path));
        if (body != null)
        {
            command.add("-d");
            command.add(body);
        }
        final Netns.Result result = Netns.exec(10, GW, command.toArray(String[]::new));
        assertEquals(0, result.exit(), result.output());
        return result;
    }

    private void mock(final String command) throws Exception
    {
        mockControl.write(command + "\n");
        mockControl.flush();
        assertEquals(command.equals("stop") ? "stopped" : "started", mockAnswers.poll(20, TimeUnit.SECONDS));
    }

    private static String slice(final String ip)
    {
        return """
            { "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
              "metadata": { "name": "web-abc", "namespace": "default",
                            "labels": { "kubernetes.io/service-name": "web" } },
              "addressType": "IPv4", "ports": [ { "name": "http", "protocol": "TCP", "port": 8080 } ],
              "endpoints": [ { "addresses": ["%s"], "conditions": { "ready": true } } ] }
            """.formatted(ip);
    }

    private static String fetch(final String url) throws IOException
    {
        final Netns.Result result = Netns.exec(10, CLIENT, "curl", "-s", "-f", "--max-time", "3", url);
        return result.exit() == 0 ? result.output().strip() : "error " + result.exit();
    }

    @Test
    void aServiceCreatedInKubernetesIsReachableAtItsLoadBalancerAddress() throws Exception
    {
        kube("POST", "/api/v1/namespaces/default/services", """
            { "apiVersion": "v1", "kind": "Service", "metadata": { "name": "web", "namespace": "default" },
              "spec": { "type": "LoadBalancer", "clusterIP": "10.96.0.10",
                        "ports": [ { "name": "http", "protocol": "TCP", "port": 80, "targetPort": "http",
                                     "nodePort": 30080 } ] } }
            """);
        kube("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", slice("10.4.0.2"));
        String vip = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (vip == null && System.nanoTime() < deadline)
        {
            final JsonNode service = MAPPER.readTree(kube("GET", "/api/v1/namespaces/default/services/web", null)
                .output());
            vip = service.path("status").path("loadBalancer").path("ingress").path(0).path("ip").asText(null);
            Thread.sleep(100);
        }
        assertTrue(vip != null, "the gateway wrote no address to the Service's status: " + gateway.output());
        assertTrue(vip.startsWith("10.1.0.1"), vip);
        String page = "";
        for (int attempt = 0; attempt < 60 && !page.equals("pod1"); attempt++)
        {
            page = fetch("http://" + vip + "/whoami");
            Thread.sleep(page.equals("pod1") ? 0 : 250);
        }
        assertEquals("pod1", page, "through the LoadBalancer address");
        assertEquals("pod1", fetch("http://10.1.0.1:30080/whoami"), "through the node port");

        // The API server goes away: forwarding goes on with what the gateway knows.
        mock("stop");
        for (int i = 0; i < 8; i++)
        {
            assertEquals("pod1", fetch("http://" + vip + "/whoami"), "while the API server is away");
            Thread.sleep(250);
        }
        mock("start");

        // The pod is replaced by one elsewhere: new connections follow the EndpointSlice.
        kube("PUT", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc", slice("10.5.0.2"));
        for (int attempt = 0; attempt < 60 && !page.equals("pod2"); attempt++)
        {
            Thread.sleep(250);
            page = fetch("http://" + vip + "/whoami");
        }
        assertEquals("pod2", page);

        kube("DELETE", "/api/v1/namespaces/default/services/web", null);
        for (int attempt = 0; attempt < 60 && !page.startsWith("error"); attempt++)
        {
            Thread.sleep(250);
            page = fetch("http://" + vip + "/whoami");
        }
        assertTrue(page.startsWith("error"), "the address goes with the service: " + page);
        final JsonNode view = MAPPER.readTree(Netns.exec(10, GW, "curl", "-s", gateway.base() + "/v1/kubernetes")
            .output());
        assertTrue(view.get("connected").asBoolean(), view.toString());
        assertEquals(0, view.get("learned").get("services").asInt(), view.toString());
    }
}
