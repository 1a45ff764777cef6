package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control API of a gateway process ({@code --io none}: devices not bound, so no root needed): validation,
 * make-before-break semantics, persistence across SIGKILL, a torn journal tail, tokens and the Prometheus export.
 */
class ControlApiTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String CONFIG = """
        { "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" } ],
          "routes": [ { "interface": "Port2", "prefix": "192.168.20.0/24", "nextHop": "10.2.0.254", "metric": 100 } ]
        }
        """;

    @TempDir
    Path tmp;
    private Path config;
    private Path state;
    private GatewayProcess gateway;

    @BeforeEach
    void setUp() throws Exception
    {
        config = tmp.resolve("config.json");
        Files.writeString(config, CONFIG);
        state = tmp.resolve("state");
        gateway = start();
    }

    @AfterEach
    void tearDown()
    {
        gateway.close();
    }

    private GatewayProcess start(final String... extra) throws Exception
    {
        final List<String> args = new ArrayList<>(List.of("--config", config.toString(), "--state", state.toString(),
            "--api", "127.0.0.1:0", "--io", "none"));
        args.addAll(List.of(extra));
        return GatewayProcess.start(List.of(), args.toArray(String[]::new));
    }

    private static String route(final String iface, final String prefix, final String nextHop, final int metric)
    {
        return "{\"interface\":\"" + iface + "\",\"destinationPrefix\":\"" + prefix + "\",\"nextHop\":\"" + nextHop +
            "\",\"routeMetric\":" + metric + "}";
    }

    private JsonNode json(final GatewayProcess.Response response) throws Exception
    {
        return MAPPER.readTree(response.body());
    }

    @Test
    void shouldAddReplaceListAndRemoveRoutes() throws Exception
    {
        assertEquals(201, gateway.request("POST", "/v1/routes", route("Port3", "192.168.20.0/24", "10.3.0.254",
            200)).status());
        final GatewayProcess.Response replaced = gateway.request("POST", "/v1/routes",
            route("Port3", "192.168.20.0/24", "10.3.0.253", 50));
        assertEquals(200, replaced.status());
        assertTrue(json(replaced).get("replaced").asBoolean());
        final JsonNode port3 = json(gateway.request("GET", "/v1/routes?interface=Port3", null));
        assertEquals(1, port3.size());
        assertEquals("10.3.0.253", port3.get(0).get("nextHop").asText());
        assertEquals(50, port3.get(0).get("metric").asInt());
        assertEquals(2, json(gateway.request("GET", "/v1/routes", null)).size());
        assertEquals(200, gateway.request("DELETE", "/v1/routes?interface=Port3&destinationPrefix=192.168.20.0/24",
            null).status());
        assertEquals(404, gateway.request("DELETE", "/v1/routes?interface=Port3&prefix=192.168.20.0/24",
            null).status());
        final JsonNode ports = json(gateway.request("PUT", "/v1/ports/Port2", "{\"adminUp\": false}"));
        assertEquals(false, ports.get("adminUp").asBoolean());
        assertEquals(false, json(gateway.request("GET", "/v1/config", null)).get("ports").get(1).get("adminUp")
            .asBoolean());
    }

    @Test
    void shouldRefuseBadRequestsWithAReasonAndChangeNothing() throws Exception
    {
        final String before = gateway.request("GET", "/v1/config", null).body();
        final String[][] cases = {
            {"{\"interface\": \"Port3\", ", "400", null, "malformed JSON"},
            {route("Port3", "10.0.0.0/33", "10.3.0.9", 1), "400", "prefix", "prefix length 33"},
            {route("Port3", "300.1.1.1/8", "10.3.0.9", 1), "400", "prefix", "octet 300 > 255"},
            {route("Port3", "10.0.0.1/8", "10.3.0.9", 1), "400", "prefix", "host bits set"},
            {route("Port9", "10.0.0.0/8", "10.3.0.9", 1), "400", "interface", "unknown interface Port9"},
            {route("Port3", "10.0.0.0/8", "10.3.0.9", -1), "400", "metric", "metric: -1 not in 1..9999"},
            {route("Port3", "10.0.0.0/8", "10.2.0.9", 1), "400", "nextHop", "not reachable through Port3"},
            {"{\"interface\":\"Port3\",\"destinationPrefix\":\"10.0.0.0/8\",\"nextHop\":\"10.3.0.9\"," +
                "\"routeMetric\":\"high\"}", "400", "metric", "must be an integer"},
            {"{\"interface\":3,\"destinationPrefix\":\"10.0.0.0/8\",\"nextHop\":\"10.3.0.9\"}", "400", "interface",
                "must be a string"},
            {"{\"interface\":\"Port3\",\"destinationPrefix\":\"10.0.0.0/8\",\"nextHop\":\"10.3.0.9\",\"colour\":1}",
                "400", "colour", "unknown field"},
            {"[1,2,3]", "400", null, "must be a JSON object"},
            {"null", "400", null, "must be a JSON object"},
            {"\"Port3\"", "400", null, "must be a JSON object"},
            {route("Port3", "10.0.0.0/8", "10.3.0.9", 1) + " garbage", "400", null, "malformed JSON"},
            {route("Port3", "10.0.0.0/8", "10.3.0.9", 1) + route("Port3", "10.1.0.0/16", "10.3.0.9", 1), "400", null,
                "content after the JSON value"},
            {"{\"interface\":\"Port3\",\"interface\":\"Port2\",\"prefix\":\"10.0.0.0/8\",\"nextHop\":\"10.3.0.9\"}",
                "400", null, "Duplicate field 'interface'"},
            {route("Port3", "10.0.0.0/8", "10.3.0.255", 1), "400", "nextHop", "network or broadcast address"},
            {"{\"pad\":\"" + "x".repeat(70_000) + "\"}", "413", null, "larger than"},
        };
        for (final String[] c : cases)
        {
            final GatewayProcess.Response response = gateway.request("POST", "/v1/routes", c[0]);
            assertEquals(Integer.parseInt(c[1]), response.status(), c[3] + ": " + response.body());
            final JsonNode error = json(response);
            assertTrue(error.get("error").asText().contains(c[3]), error.toString());
            if (c[2] != null)
            {
                assertEquals(c[2], error.get("field").asText());
            }
        }
        // The 413 always arrives: the oversized body is read and discarded before the answer, not left unread on a
        // connection the kernel would then reset.
        final String oversized = "{\"pad\":\"" + "x".repeat(200_000) + "\"}";
        for (int i = 0; i < 30; i++)
        {
            assertEquals(413, gateway.request("POST", "/v1/routes", oversized).status());
        }
        // A null inside an array is the element's error, answered as one (not a server error).
        final GatewayProcess.Response nullElement = gateway.request("PUT", "/v1/nat", "{\"inside\": [null]}");
        assertEquals(400, nullElement.status(), nullElement.body());
        assertTrue(json(nullElement).get("error").asText().contains("inside[0]: must not be null"),
            nullElement.body());
        assertEquals(400, gateway.request("PUT", "/v1/ports/Port2", "{\"adminUp\": \"no\"}").status());
        assertEquals(400, gateway.request("PUT", "/v1/ports/Port9", "{\"adminUp\": false}").status());
        assertEquals(405, gateway.request("PATCH", "/v1/routes", "{}").status());
        assertEquals(404, gateway.request("GET", "/v2/routes", null).status());
        assertEquals(before, gateway.request("GET", "/v1/config", null).body(), "state changed by bad requests");
    }

    @Test
    void shouldSurviveARequestFloodWithStateIntact() throws Exception
    {
        final String before = gateway.request("GET", "/v1/config", null).body();
        final ExecutorService pool = Executors.newFixedThreadPool(8);
        try
        {
            final List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 400; i++)
            {
                final int n = i;
                results.add(pool.submit(() -> n % 2 == 0 ?
                    gateway.request("POST", "/v1/routes", route("Port3", "10.0.0.0/33", "10.3.0.9", 1)).status() :
                    gateway.request("GET", "/v1/routes", null).status()));
            }
            for (int i = 0; i < results.size(); i++)
            {
                assertEquals(i % 2 == 0 ? 400 : 200, results.get(i).get());
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        assertEquals(before, gateway.request("GET", "/v1/config", null).body());
    }

    @Test
    void shouldRestoreExactlyTheAcknowledgedStateAfterSigkill() throws Exception
    {
        final List<String> expected = new ArrayList<>();
        expected.add("Port2 192.168.20.0/24 10.2.0.254 100");
        for (int i = 0; i < 40; i++)
        {
            final String prefix = "172.16." + i + ".0/24";
            assertEquals(201, gateway.request("POST", "/v1/routes", route("Port3", prefix, "10.3.0.7", 10 + i))
                .status());
            expected.add("Port3 " + prefix + " 10.3.0.7 " + (10 + i));
            if (i % 5 == 4)
            {
                assertEquals(200, gateway.request("DELETE", "/v1/routes?interface=Port3&destinationPrefix=172.16." +
                    (i - 2) + ".0/24", null).status());
                expected.remove("Port3 172.16." + (i - 2) + ".0/24 10.3.0.7 " + (10 + i - 2));
            }
        }
        assertEquals(200, gateway.request("PUT", "/v1/ports/Port1", "{\"adminUp\": false}").status());
        // A port as GET shows it (counters, link, effective MTU), edited and PUT back, sets its administrative
        // state; a field that cannot change at run time is refused naming it.
        final com.fasterxml.jackson.databind.node.ObjectNode port3 = (com.fasterxml.jackson.databind.node.ObjectNode)
            json(gateway.request("GET", "/v1/ports?name=Port3", null)).get(0);
        final GatewayProcess.Response mtu = gateway.request("PUT", "/v1/ports/Port3",
            port3.deepCopy().put("adminUp", false).put("mtu", 1280).toString());
        assertEquals(400, mtu.status(), mtu.body());
        assertEquals("mtu", json(mtu).path("field").asText(), mtu.body());
        assertEquals(true, json(gateway.request("GET", "/v1/ports?name=Port3", null)).get(0).get("adminUp")
            .asBoolean());
        final GatewayProcess.Response down = gateway.request("PUT", "/v1/ports/Port3",
            port3.put("adminUp", false).toString());
        assertEquals(200, down.status(), down.body());
        assertEquals(201, gateway.request("POST", "/v1/neighbors",
            "{\"interface\":\"Port2\",\"ip\":\"10.2.0.254\",\"mac\":\"02:00:00:00:02:fe\"}").status());
        gateway.kill();

        gateway = start();
        final JsonNode routes = json(gateway.request("GET", "/v1/routes", null));
        final List<String> actual = new ArrayList<>();
        routes.forEach(r -> actual.add(r.get("interface").asText() + " " + r.get("prefix").asText() + " " +
            r.get("nextHop").asText() + " " + r.get("metric").asInt()));
        expected.sort(null);
        actual.sort(null);
        assertEquals(expected, actual);
        assertEquals(false, json(gateway.request("GET", "/v1/ports", null)).get(0).get("adminUp").asBoolean());
        assertEquals(false, json(gateway.request("GET", "/v1/ports?name=Port3", null)).get(0).get("adminUp")
            .asBoolean(), "the round-tripped port's state survives SIGKILL");
        final JsonNode neighbors = json(gateway.request("GET", "/v1/neighbors", null));
        assertEquals(1, neighbors.size());
        assertEquals("02:00:00:00:02:fe", neighbors.get(0).get("mac").asText());
        // A listed neighbor posted back (with GET's "static") is accepted as the same neighbor.
        final GatewayProcess.Response again = gateway.request("POST", "/v1/neighbors", neighbors.get(0).toString());
        assertEquals(200, again.status(), again.body());
        assertEquals(400, gateway.request("POST", "/v1/neighbors",
            ((com.fasterxml.jackson.databind.node.ObjectNode)neighbors.get(0).deepCopy()).put("colour", 1).toString())
            .status(), "other unknown fields are still refused");
    }

    @Test
    void shouldAddAndRemoveATunnelPortAtRunTimeAndKeepItAcrossSigkill() throws Exception
    {
        final String tunnel = "{\"name\":\"vxlan7\",\"type\":\"vxlan\",\"vni\":7,\"underlay\":\"Port3\"," +
            "\"mac\":\"02:00:00:00:07:01\",\"ipv4\":\"192.168.7.1/24\"}";
        assertEquals(400, gateway.request("POST", "/v1/ports", tunnel.replace("Port3", "Port9")).status());
        assertEquals(400, gateway.request("POST", "/v1/ports", tunnel.replace("192.168.7.1/24", "10.3.0.9/24"))
            .status(), "a tunnel subnet overlapping its underlay's is refused");
        assertEquals(201, gateway.request("POST", "/v1/ports", tunnel).status());
        assertEquals(4, json(gateway.request("GET", "/v1/ports", null)).size());
        assertEquals(201, gateway.request("POST", "/v1/neighbors", "{\"interface\":\"vxlan7\",\"ip\":" +
            "\"192.168.7.2\",\"mac\":\"02:00:00:00:07:02\",\"vtep\":\"10.3.0.2\"}").status());
        assertEquals(201, gateway.request("POST", "/v1/routes", route("vxlan7", "10.244.7.0/24", "192.168.7.2", 1))
            .status());
        assertEquals(409, gateway.request("DELETE", "/v1/ports?name=vxlan7", null).status(),
            "a tunnel a route still uses is not removed");
        assertEquals(200, gateway.request("PUT", "/v1/nat", "{\"inside\":[\"vxlan7\"],\"outside\":\"Port2\"," +
            "\"maxSessions\":100}").status());
        assertEquals(200, gateway.request("DELETE", "/v1/routes?interface=vxlan7&prefix=10.244.7.0/24", null)
            .status());
        final GatewayProcess.Response natUses = gateway.request("DELETE", "/v1/ports?name=vxlan7", null);
        assertEquals(409, natUses.status(), "a tunnel NAT uses is not removed: " + natUses.body());
        assertTrue(natUses.body().contains("NAT uses vxlan7"), natUses.body());
        assertEquals(200, gateway.request("PUT", "/v1/nat", "{\"inside\":[]}").status());
        assertEquals(201, gateway.request("POST", "/v1/routes", route("vxlan7", "10.244.7.0/24", "192.168.7.2", 1))
            .status());
        gateway.kill();

        gateway = start();
        final JsonNode ports = json(gateway.request("GET", "/v1/ports", null));
        assertEquals(4, ports.size());
        assertEquals(1, json(gateway.request("GET", "/v1/routes?interface=vxlan7", null)).size());
        assertEquals(200, gateway.request("DELETE", "/v1/routes?interface=vxlan7&destinationPrefix=10.244.7.0/24",
            null).status());
        assertEquals(409, gateway.request("DELETE", "/v1/ports?name=vxlan7", null).status(),
            "a tunnel with a static neighbor is not removed");
        assertEquals(200, gateway.request("DELETE", "/v1/neighbors?interface=vxlan7&ip=192.168.7.2", null).status());
        assertEquals(200, gateway.request("DELETE", "/v1/ports?name=vxlan7", null).status());
        assertEquals(404, gateway.request("DELETE", "/v1/ports?name=vxlan7", null).status());
        assertEquals(400, gateway.request("DELETE", "/v1/ports?name=Port1", null).status(),
            "a physical port is not removed at run time");
        assertEquals(3, json(gateway.request("GET", "/v1/ports", null)).size());
        gateway.kill();

        gateway = start();
        assertEquals(3, json(gateway.request("GET", "/v1/ports", null)).size());
        assertEquals(201, gateway.request("POST", "/v1/ports", tunnel).status(), "the name is reusable");

        // The same through the CLI: port add / remove, errors in one line.
        final java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(1, io.edgeplane.control.cli.Main.execute(new java.io.PrintWriter(err, true), "port", "add",
            "--name", "vxlan8", "--vni", "8", "--underlay", "Port9", "--mac", "02:00:00:00:08:01", "--ipv4",
            "192.168.8.1/24", "--api", gateway.base()));
        assertTrue(err.toString().startsWith("edgeplane: error: underlay:"), err.toString());
        assertEquals(0, io.edgeplane.control.cli.Main.execute("port", "add", "--name", "vxlan8", "--vni", "8",
            "--underlay", "Port3", "--mac", "02:00:00:00:08:01", "--ipv4", "192.168.8.1/24", "--mtu", "1450",
            "--api", gateway.base(), "--json"));
        final JsonNode added = json(gateway.request("GET", "/v1/ports?name=vxlan8", null)).get(0);
        assertEquals(8, added.get("vni").asInt());
        assertEquals(1450, added.get("mtu").asInt());
        assertEquals(0, io.edgeplane.control.cli.Main.execute("port", "remove", "--name", "vxlan8", "--api",
            gateway.base(), "--json"));
        assertEquals(0, json(gateway.request("GET", "/v1/ports?name=vxlan8", null)).size());
    }

    @Test
    void shouldSetShowAndPersistNatSettingsAndRefuseBadOnesNamingTheField() throws Exception
    {
        final GatewayProcess.Response off = gateway.request("GET", "/v1/nat", null);
        assertEquals(200, off.status());
        assertFalse(json(off).get("enabled").asBoolean());
        final String nat = "{\"inside\":[\"Port1\"],\"outside\":\"Port2\",\"addresses\":[\"10.2.0.100\"]," +
            "\"maxSessions\":1000,\"timeouts\":{\"udp\":600}}";
        for (final String[] bad : new String[][] {
            {nat.replace("Port2", "Port9"), "outside"}, {nat.replace("\"Port1\"", "\"Port2\""), "outside"},
            {nat.replace("600", "30"), "udp"}, {nat.replace("10.2.0.100", "10.3.0.1"), "addresses"},
            {nat.replace("1000", "0"), "maxSessions"}, {"{\"inside\":[\"Port1\"],\"colour\":1}", "colour"},
            {"[1]", null}})
        {
            final GatewayProcess.Response refused = gateway.request("PUT", "/v1/nat", bad[0]);
            assertEquals(400, refused.status(), bad[0] + " -> " + refused.body());
            if (bad[1] != null)
            {
                assertEquals(bad[1], json(refused).path("field").asText(), refused.body());
            }
            assertFalse(json(gateway.request("GET", "/v1/nat", null)).get("enabled").asBoolean());
        }
        final GatewayProcess.Response set = gateway.request("PUT", "/v1/nat", nat);
        assertEquals(200, set.status(), set.body());
        final JsonNode shown = json(gateway.request("GET", "/v1/nat", null));
        assertTrue(shown.get("enabled").asBoolean());
        assertEquals("Port2", shown.get("outsidePort").asText());
        assertEquals("10.2.0.100", shown.get("outsideAddresses").get(0).asText());
        assertEquals(600, shown.get("timeouts").get("udp").asInt());
        assertEquals(240, shown.get("timeouts").get("tcpTransitory").asInt(), "defaults filled in");
        assertEquals(1000, shown.get("statistics").get("capacity").asInt());
        // GET's answer, edited, PUT back: what GET adds (outsidePort, statistics, ...) is dropped; "enabled" is
        // checked against inside rather than ignored.
        final com.fasterxml.jackson.databind.node.ObjectNode edited =
            ((com.fasterxml.jackson.databind.node.ObjectNode)shown.deepCopy()).put("portRange", "2000-3000");
        final GatewayProcess.Response roundTrip = gateway.request("PUT", "/v1/nat", edited.toString());
        assertEquals(200, roundTrip.status(), roundTrip.body());
        assertEquals("2000-3000", json(gateway.request("GET", "/v1/nat", null)).get("portRange").asText());
        final GatewayProcess.Response contradiction = gateway.request("PUT", "/v1/nat",
            edited.put("enabled", false).put("portRange", "4000-5000").toString());
        assertEquals(400, contradiction.status(), contradiction.body());
        assertEquals("enabled", json(contradiction).path("field").asText(), contradiction.body());
        assertEquals("2000-3000", json(gateway.request("GET", "/v1/nat", null)).get("portRange").asText());
        assertEquals(409, gateway.request("PUT", "/v1/nat", nat.replace("1000", "5000")).status(),
            "the table is not reallocated under established flows");
        assertEquals(200, gateway.request("PUT", "/v1/nat", nat.replace("1000", "500")).status());
        assertEquals(0, json(gateway.request("GET", "/v1/nat/sessions?protocol=udp&limit=5", null)).size());
        assertEquals(0, json(gateway.request("DELETE", "/v1/nat/sessions", null)).get("flushed").asInt());
        assertEquals(400, gateway.request("GET", "/v1/nat/sessions?protocol=sctp", null).status());
        assertEquals(400, gateway.request("GET", "/v1/nat/sessions?limit=0", null).status());
        assertEquals(404, gateway.request("GET", "/v1/nat/mappings", null).status());
        assertEquals(405, gateway.request("POST", "/v1/nat", nat).status());
        // The running config (the snapshot's format) carries the section in the config file's shape.
        assertEquals("Port2", json(gateway.request("GET", "/v1/config", null)).get("nat").get("outside").asText());
        gateway.kill();

        gateway = start();
        final JsonNode restored = json(gateway.request("GET", "/v1/nat", null));
        assertEquals(500, restored.get("maxSessions").asInt(), "the last acknowledged settings survive SIGKILL");
        assertEquals("10.2.0.100", restored.get("outsideAddresses").get(0).asText());
        assertEquals(200, gateway.request("PUT", "/v1/nat", "{\"inside\":[]}").status(), "an empty inside turns it off");
        assertFalse(json(gateway.request("GET", "/v1/nat", null)).get("enabled").asBoolean());

        // The CLI: set changes only the fields given; errors are one line.
        final java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(1, io.edgeplane.control.cli.Main.execute(new java.io.PrintWriter(err, true), "nat", "set",
            "--inside", "Port1", "--udp-timeout", "30", "--api", gateway.base()));
        assertTrue(err.toString().startsWith("edgeplane: error: timeouts.udp: 30 s not in 120.."), err.toString());
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final java.io.PrintStream saved = System.out;
        System.setOut(new java.io.PrintStream(out, true));
        try
        {
            assertEquals(0, io.edgeplane.control.cli.Main.execute("nat", "set", "--inside", "Port1", "--outside",
                "Port3", "--max-sessions", "500", "--api", gateway.base()));
            assertEquals(0, io.edgeplane.control.cli.Main.execute("nat", "set", "--icmp-timeout", "90", "--api",
                gateway.base()));
            assertEquals(0, io.edgeplane.control.cli.Main.execute("nat", "get", "--api", gateway.base()));
        }
        finally
        {
            System.setOut(saved);
        }
        final JsonNode viaCli = json(gateway.request("GET", "/v1/nat", null));
        assertEquals("Port3", viaCli.get("outside").asText());
        assertEquals(90, viaCli.get("timeouts").get("icmp").asInt());
        assertEquals(500, viaCli.get("maxSessions").asInt(), "fields not given are kept");
        assertTrue(out.toString().contains("outsidePort        Port3"), out.toString());
    }

    @Test
    void shouldAddReplaceRemoveServicesSetBackendsAndKeepThemAcrossSigkill() throws Exception
    {
        gateway.close();
        Files.writeString(config, CONFIG.replace("\"routes\":", "\"serviceNetwork\": { \"externalServiceIPs\": " +
            "\"10.1.0.100-10.1.0.101\", \"serviceCIDR\": \"10.96.0.0/24\", \"clusterSources\": [\"10.3.0.0/24\"] },\n" +
            "          \"routes\":"));
        gateway = start();
        final String web = "{\"name\":\"web\",\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80," +
            "\"targetPort\":8080}],\"backends\":[{\"ip\":\"10.3.0.5\"}]}";
        final GatewayProcess.Response added = gateway.request("POST", "/v1/services", web);
        assertEquals(201, added.status(), added.body());
        assertEquals("10.96.0.2", json(added).get("clusterIP").asText(), "allocated from serviceCIDR");
        assertEquals("10.1.0.100", json(added).get("loadBalancerIP").asText(), "allocated from the external range");
        assertEquals(30000, json(added).get("ports").get(0).get("nodePort").asInt());
        final GatewayProcess.Response replaced = gateway.request("POST", "/v1/services", web.replace("8080", "8081"));
        assertEquals(200, replaced.status(), replaced.body());
        assertEquals("10.1.0.100", json(replaced).get("loadBalancerIP").asText(), "a replacement keeps its VIP");
        assertEquals(30000, json(replaced).get("ports").get(0).get("nodePort").asInt());
        assertEquals(200, gateway.request("PUT", "/v1/services/web/backends",
            "{\"backends\":[{\"ip\":\"10.3.0.6\"},{\"ip\":\"10.3.0.7\"}]}").status());
        assertEquals(2, json(gateway.request("GET", "/v1/services?name=web", null)).get(0).get("backends").size());
        assertEquals(404, gateway.request("PUT", "/v1/services/nope/backends", "{\"backends\":[]}").status());
        for (final String[] bad : new String[][] {
            {web.replace("\"targetPort\":8080", "\"nodePort\":40000").replace("\"web\"", "\"a\""), "nodePort"},
            {web.replace("\"port\":80", "\"protocol\":\"SCTP\",\"port\":80").replace("\"web\"", "\"b\""), "protocol"},
            {web.replace("\"LoadBalancer\"", "\"LoadBalancer\",\"loadBalancerIP\":\"10.9.9.9\"")
                .replace("\"web\"", "\"c\""), "loadBalancerIP"},
            {web.replace("\"LoadBalancer\"", "\"ClusterIP\",\"clusterIP\":\"10.96.0.2\"")
                .replace("\"web\"", "\"d\""), "port"},
            {web.replace("10.3.0.5", "255.255.255.255").replace("\"web\"", "\"e\""), "ip"},
            {web.replace("\"web\"", "\"Bad_Name\""), "name"}})
        {
            final GatewayProcess.Response refused = gateway.request("POST", "/v1/services", bad[0]);
            assertEquals(400, refused.status(), bad[0] + " -> " + refused.body());
            assertEquals(bad[1], json(refused).path("field").asText(), refused.body());
        }
        assertEquals(1, json(gateway.request("GET", "/v1/services", null)).size(), "nothing changed");
        assertEquals(201, gateway.request("POST", "/v1/services", web.replace("\"web\"", "\"second\"")).status());
        final GatewayProcess.Response exhausted = gateway.request("POST", "/v1/services",
            web.replace("\"web\"", "\"third\""));
        assertEquals(409, exhausted.status(), "the external range has two addresses: " + exhausted.body());
        final JsonNode running = json(gateway.request("GET", "/v1/config", null));
        assertEquals("10.1.0.100-10.1.0.101", running.get("serviceNetwork").get("externalServiceIPs").asText());
        assertEquals(2, running.get("services").size());
        gateway.kill();

        gateway = start();
        final JsonNode restored = json(gateway.request("GET", "/v1/services", null));
        assertEquals(2, restored.size());
        assertEquals("10.1.0.100", restored.get(0).get("loadBalancerIP").asText());
        assertEquals(2, restored.get(0).get("backends").size(), "the backends set through PUT survive SIGKILL");
        assertEquals("10.1.0.101", restored.get(1).get("loadBalancerIP").asText());
        assertEquals(200, gateway.request("DELETE", "/v1/services?name=web", null).status());
        assertEquals(404, gateway.request("DELETE", "/v1/services?name=web", null).status());

        assertEquals(0, io.edgeplane.control.cli.Main.execute("service", "add", "--name", "cli", "--port", "53/UDP",
            "--backends", "10.3.0.9", "--api", gateway.base(), "--json"));
        assertEquals(0, io.edgeplane.control.cli.Main.execute("service", "backends", "--name", "cli", "--set", "",
            "--api", gateway.base(), "--json"));
        final JsonNode cli = json(gateway.request("GET", "/v1/services?name=cli", null)).get(0);
        assertEquals("UDP", cli.get("ports").get(0).get("protocol").asText());
        assertEquals(0, cli.get("backends").size(), "--set \"\" leaves the service without backends");
    }

    @Test
    void shouldIgnoreATornJournalTail() throws Exception
    {
        assertEquals(201, gateway.request("POST", "/v1/routes", route("Port3", "172.17.0.0/16", "10.3.0.7", 5))
            .status());
        gateway.kill();
        // A crash in the middle of the next append: a length and half a record.
        Files.write(state.resolve("journal.log"), new byte[] {0, 0, 0, 90, 1, 2, 3, 4, '{', '"'},
            StandardOpenOption.APPEND);
        gateway = start();
        final JsonNode routes = json(gateway.request("GET", "/v1/routes?interface=Port3", null));
        assertEquals(1, routes.size());
        assertEquals("172.17.0.0/16", routes.get(0).get("prefix").asText());
    }

    @Test
    void shouldRequireTheTokenWhenOneIsSet() throws Exception
    {
        gateway.close();
        final Path tokenFile = tmp.resolve("token");
        final String token = "4f1c0a9e7b2d4c58a1e6";
        Files.writeString(tokenFile, token + "\n");
        gateway = start("--token-file", tokenFile.toString());
        assertEquals(401, gateway.request("GET", "/v1/routes", null).status());
        assertEquals(401, gateway.request("GET", "/v1/routes", null, "wrong").status());
        assertEquals(401, gateway.request("GET", "/v1/routes", null, "").status());
        assertEquals(200, gateway.request("GET", "/v1/routes", null, token).status());
    }

    /** Run a gateway that must not start: its one line of output and its exit code. */
    private String failedStart(final Map<String, String> environment, final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(GatewayProcess.javaCommand());
        command.add("gateway");
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("EDGEPLANE_TOKEN");
        builder.environment().putAll(environment);
        final Process process = builder.start();
        assertTrue(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "gateway exits");
        final String output = new String(process.getInputStream().readAllBytes()).strip();
        assertEquals(1, process.exitValue(), output);
        assertEquals(1, output.lines().count(), output);
        return output;
    }

    @Test
    void shouldRefuseToStartWithAnEmptyOrShortTokenOrABusyPort() throws Exception
    {
        final String[] base = {"--config", config.toString(), "--state", tmp.resolve("s3").toString(), "--io",
            "none"};
        final List<String> open = new ArrayList<>(List.of(base));
        open.addAll(List.of("--api", "0.0.0.0:0"));
        assertEquals("edgeplane: error: --token: empty; an API token must have at least 16 characters",
            failedStart(Map.of(), concat(open, "--token", "")));
        assertEquals("edgeplane: error: --token: empty; an API token must have at least 16 characters",
            failedStart(Map.of("EDGEPLANE_TOKEN", ""), open.toArray(String[]::new)));
        assertTrue(failedStart(Map.of(), concat(open, "--token", "short")).contains("shorter than 16"));
        assertTrue(failedStart(Map.of(), open.toArray(String[]::new)).contains("requires a token"));
        final String busyPort = gateway.base().substring(gateway.base().lastIndexOf(':') + 1);
        final String busy = failedStart(Map.of(), concat(List.of(base), "--api", "127.0.0.1:" + busyPort));
        assertTrue(busy.startsWith("edgeplane: error: --api: 127.0.0.1:" + busyPort), busy);
    }

    private static String[] concat(final List<String> first, final String... more)
    {
        final List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void shouldKeepTheStateDirectoryToItsOwner() throws Exception
    {
        assertEquals(201, gateway.request("POST", "/v1/routes", route("Port3", "10.9.0.0/16", "10.3.0.9", 5))
            .status());
        final Path state = tmp.resolve("state");
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(state)));
        try (var files = Files.list(state))
        {
            for (final Path file : files.toList())
            {
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(file)), file.toString());
            }
        }
    }

    @Test
    void shouldServeTheRuntimeTable() throws Exception
    {
        final JsonNode rows = json(gateway.request("GET", "/v1/runtime", null));
        final List<String> stages = new ArrayList<>();
        rows.forEach(row -> stages.add(row.get("stage").asText()));
        assertTrue(stages.containsAll(List.of("ethernet-input", "ip4-input", "ip4-lookup", "ip4-rewrite",
            "interface-output", "error-drop")), stages.toString());
        for (final JsonNode row : rows)
        {
            assertTrue(row.has("packets") && row.has("vectors") && row.has("nsPerPacket"), row.toString());
        }
    }

    @Test
    void shouldExportPrometheusCounters() throws Exception
    {
        final String metrics = gateway.request("GET", "/metrics", null).body();
        assertTrue(metrics.contains("# TYPE edgeplane_drops_total counter"), metrics);
        assertTrue(metrics.contains("edgeplane_drops_total{reason=\"ip4-no-route\"} 0"), metrics);
        assertTrue(metrics.contains("edgeplane_port_rx_packets_total{port=\"Port1\"} 0"), metrics);
        for (final String line : metrics.split("\n"))
        {
            assertTrue(line.startsWith("#") || line.matches("[a-z_]+\\{[a-z]+=\"[A-Za-z0-9._-]+\"} \\d+"), line);
        }
    }

    @Test
    void shouldFailWithOneLineForADeviceThatDoesNotExist() throws Exception
    {
        final Path bad = tmp.resolve("bad-device.json");
        Files.writeString(bad, CONFIG.replace("\"ipv4\": \"10.1.0.1/24\" }",
            "\"ipv4\": \"10.1.0.1/24\", \"device\": \"ep-missing0\" }"));
        final List<String> command = new ArrayList<>(GatewayProcess.javaCommand());
        command.addAll(List.of("gateway", "--config", bad.toString(), "--state", tmp.resolve("s2").toString(),
            "--api", "127.0.0.1:0"));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "gateway exits");
        final String output = new String(process.getInputStream().readAllBytes()).strip();
        assertEquals(1, process.exitValue(), output);
        assertEquals(1, output.lines().count(), output);
        assertTrue(output.startsWith("edgeplane: error: ports[1].device: missing") ||
            output.startsWith("edgeplane: error: Port1: cannot open device ep-missing0"), output);
    }

    @Test
    void shouldAnswerTheCliWithTablesAndOneLineErrors() throws Exception
    {
        final java.io.StringWriter err = new java.io.StringWriter();
        final int bad = io.edgeplane.control.cli.Main.execute(new java.io.PrintWriter(err, true), "route", "add",
            "--interface", "Port3", "--prefix", "10.0.0.0/33", "--next-hop", "10.3.0.9", "--api", gateway.base());
        assertEquals(1, bad);
        assertEquals("edgeplane: error: prefix: prefix length 33 not in 0..32 in 10.0.0.0/33 (HTTP 400)",
            err.toString().strip());

        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final java.io.PrintStream saved = System.out;
        System.setOut(new java.io.PrintStream(out, true));
        try
        {
            assertEquals(0, io.edgeplane.control.cli.Main.execute("route", "add", "--interface", "Port3",
                "--prefix", "10.9.0.0/16", "--next-hop", "10.3.0.9", "--metric", "7", "--api", gateway.base()));
            assertEquals(0, io.edgeplane.control.cli.Main.execute("route", "get", "--interface", "Port3", "--api",
                gateway.base()));
        }
        finally
        {
            System.setOut(saved);
        }
        final List<String> lines = out.toString().lines().toList();
        assertEquals("interface  prefix       nextHop   metric", lines.get(lines.size() - 2));
        assertEquals("Port3      10.9.0.0/16  10.3.0.9  7", lines.get(lines.size() - 1));

        final java.io.StringWriter unreachable = new java.io.StringWriter();
        assertEquals(1, io.edgeplane.control.cli.Main.execute(new java.io.PrintWriter(unreachable, true), "route",
            "get", "--api", "http://127.0.0.1:1"));
        assertTrue(unreachable.toString().startsWith("edgeplane: error: cannot reach the gateway at " +
            "http://127.0.0.1:1"), unreachable.toString());
    }

    @Test
    void shouldStopGracefullyOnSigterm() throws Exception
    {
        assertEquals(201, gateway.request("POST", "/v1/routes", route("Port3", "172.18.0.0/16", "10.3.0.7", 5))
            .status());
        // A JVM stopped by SIGTERM exits 143 once its shutdown hooks (our graceful stop) have run.
        final int exit = gateway.terminate();
        assertTrue(exit == 143 || exit == 0, "exit " + exit + ": " + gateway.output());
        assertTrue(Files.exists(state.resolve("counters.json")), "counters flushed");
        assertTrue(Files.readString(state.resolve("state.json")).contains("172.18.0.0/16"), "state saved");
    }
}
