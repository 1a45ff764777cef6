package io.edgeplane.control.replay;

import io.edgeplane.control.cli.Main;
import io.edgeplane.port.PreloadedTrace;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo trace replayed through {@code edgeplane replay} with the demo config and with Port2 down; the output
 * pcaps are decoded by pcap4j (and, where installed, tshark) and checked as a router's output: egress port per
 * destination, MACs, TTL, and valid IPv4/UDP/TCP/ICMP checksums.
 */
class RoutingReplayTest
{
    private static final Map<String, String> PORT_MAC = Map.of(
        "Port1", "02:00:00:00:01:01", "Port2", "02:00:00:00:02:01", "Port3", "02:00:00:00:03:01");
    private static final Map<String, String> NEIGHBOR_MAC = Map.of(
        "10.1.0.10", "02:00:00:00:01:10", "10.2.0.20", "02:00:00:00:02:20", "10.3.0.30", "02:00:00:00:03:30",
        "10.2.0.254", "02:00:00:00:02:fe", "10.3.0.254", "02:00:00:00:03:fe");

    @TempDir
    Path tmp;

    /** Destination address to the port names it left by (ECMP destinations may use several). */
    private Map<String, List<String>> replay(final Path config) throws Exception
    {
        final Path out = tmp.resolve("out-" + config.getFileName());
        final StringWriter err = new StringWriter();
        final int code = Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(),
            "--in", ReplayGoldenTest.DEMO.resolve("trace.pcap").toString(), "--out", out.toString());
        assertEquals(0, code, err.toString());
        final Map<String, List<String>> egress = new HashMap<>();
        for (final String port : PORT_MAC.keySet())
        {
            final Path file = out.resolve(port + ".pcap");
            if (!Files.exists(file))
            {
                continue;
            }
            final PreloadedTrace frames = Traces.preload(file);
            for (int i = 0; i < frames.count(); i++)
            {
                final byte[] raw = frames.copyFrame(i);
                final EthernetPacket packet = EthernetPacket.newPacket(raw, 0, raw.length);
                assertEquals(PORT_MAC.get(port), packet.getHeader().getSrcAddr().toString(), port + " source MAC");
                final IpV4Packet ip = packet.get(IpV4Packet.class);
                if (ip == null)
                {
                    continue;
                }
                final var header = ip.getHeader();
                final String destination = header.getDstAddr().getHostAddress();
                final String source = header.getSrcAddr().getHostAddress();
                egress.computeIfAbsent(destination, k -> new ArrayList<>()).add(port);
                assertTrue(header.hasValidChecksum(false), "IPv4 checksum on " + port);
                final String nextHop = destination.startsWith("192.168.20.") || destination.startsWith("172.20.") ?
                    (port.equals("Port2") ? "10.2.0.254" : "10.3.0.254") : destination;
                assertEquals(NEIGHBOR_MAC.get(nextHop), packet.getHeader().getDstAddr().toString(),
                    "destination MAC for " + destination);
                final boolean generated = source.startsWith("10.") && source.endsWith(".1");
                assertEquals(generated ? 64 : 63, header.getTtlAsInt(), "TTL to " + destination);
                final UdpPacket udp = packet.get(UdpPacket.class);
                final TcpPacket tcp = packet.get(TcpPacket.class);
                final IcmpV4CommonPacket icmp = packet.get(IcmpV4CommonPacket.class);
                if (icmp != null)
                {
                    assertTrue(icmp.hasValidChecksum(false), "ICMP checksum");
                }
                else if (udp != null)
                {
                    assertTrue(udp.hasValidChecksum(header.getSrcAddr(), header.getDstAddr(), false), "UDP checksum");
                }
                else if (tcp != null)
                {
                    assertTrue(tcp.hasValidChecksum(header.getSrcAddr(), header.getDstAddr(), false), "TCP checksum");
                }
            }
            checkWithTshark(file);
        }
        return egress;
    }

    private static void checkWithTshark(final Path file) throws Exception
    {
        if (!Files.isExecutable(Path.of("/usr/bin/tshark")))
        {
            return;
        }
        final Process process = new ProcessBuilder("tshark", "-n", "-r", file.toString(),
            "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            // ICMP errors quote a truncated datagram; tshark then "verifies" the quoted L4 checksum over the
            // fragment it has. The ICMP checksum itself is verified above with pcap4j.
            "-Y", "_ws.malformed || (_ws.expert.severity >= error && !(icmp.type == 3 || icmp.type == 11))")
            .redirectErrorStream(false).start();
        final String flagged = new String(process.getInputStream().readAllBytes()).strip();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "tshark finished");
        assertEquals(0, process.exitValue(), "tshark exit code");
        assertEquals("", flagged, "tshark flags malformed packets or bad checksums in " + file);
    }

    @Test
    void shouldRouteTheDemoLikeTheConfigSays() throws Exception
    {
        final Map<String, List<String>> egress = replay(ReplayGoldenTest.DEMO.resolve("config.json"));
        assertEquals(List.of("Port2"), egress.get("10.2.0.20"), "connected");
        assertEquals(List.of("Port3"), egress.get("10.3.0.30"), "connected");
        assertEquals(List.of("Port2"), egress.get("192.168.20.5"), "metric 100 beats 200");
        assertEquals(List.of("Port3"), egress.get("172.20.9.9"), "longest prefix inside the ECMP /16");
        final List<String> ecmp = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            ecmp.addAll(egress.get("172.20." + i + ".7"));
        }
        assertTrue(ecmp.contains("Port2") && ecmp.contains("Port3"), "ECMP uses both ports: " + ecmp);
        // Echo reply + time exceeded + net unreachable + fragmentation needed, all to the client.
        assertEquals(4, egress.get("10.1.0.10").size());
    }

    @Test
    void shouldFailOverWhenPort2IsDown() throws Exception
    {
        final String config = Files.readString(ReplayGoldenTest.DEMO.resolve("config.json"))
            .replace("\"ipv4\": \"10.2.0.1/24\", \"mtu\": 1500 }", "\"ipv4\": \"10.2.0.1/24\", \"mtu\": 1500, " +
                "\"adminUp\": false }");
        final Path path = tmp.resolve("port2-down.json");
        Files.writeString(path, config);
        final Map<String, List<String>> egress = replay(path);
        assertEquals(List.of("Port3"), egress.get("192.168.20.5"), "metric 200 via Port3 takes over");
        for (int i = 0; i < 8; i++)
        {
            assertEquals(List.of("Port3"), egress.get("172.20." + i + ".7"), "ECMP shrinks to Port3");
        }
        assertEquals(null, egress.get("10.2.0.20"), "connected subnet of a down port is unreachable");
    }

    @Test
    void shouldAddTheRoutesOfARouteFile() throws Exception
    {
        final Path routes = tmp.resolve("extra.txt");
        Files.writeString(routes, "# extra routes, caf\u00e9 network\n8.8.8.0/24 10.3.0.254 100 # \u2192 router 3\n");
        final Path out = tmp.resolve("out-extra");
        final StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(err, true), "replay", "--config",
            ReplayGoldenTest.DEMO.resolve("config.json").toString(), "--in",
            ReplayGoldenTest.DEMO.resolve("trace.pcap").toString(), "--out", out.toString(), "--routes",
            routes.toString()), err.toString());
        final PreloadedTrace port3 = Traces.preload(out.resolve("Port3.pcap"));
        boolean found = false;
        for (int i = 0; i < port3.count(); i++)
        {
            final byte[] raw = port3.copyFrame(i);
            final IpV4Packet ip = EthernetPacket.newPacket(raw, 0, raw.length).get(IpV4Packet.class);
            found |= ip != null && ip.getHeader().getDstAddr().getHostAddress().equals("8.8.8.8");
        }
        assertTrue(found, "8.8.8.8 routed via the route file's next hop on Port3");
    }

    @Test
    void shouldWriteAFrameDroppedTwiceOnlyOnceToDropsPcap() throws Exception
    {
        // No ARP first: the gateway does not know the client, so the ICMP error for 8.8.8.8 is undeliverable too.
        final Path trace = tmp.resolve("twice.pcap");
        try (PcapWriter writer = new PcapWriter(trace))
        {
            writer.write(io.edgeplane.testing.Frames.udpFrame(DemoTrace.PORT1_MAC, DemoTrace.CLIENT_MAC,
                DemoTrace.CLIENT, io.edgeplane.testing.Frames.ip("8.8.8.8"), 64, 1, 2, 10), 1_000L);
        }
        final Path out = tmp.resolve("out-twice");
        assertEquals(0, Main.execute(new PrintWriter(new StringWriter(), true), "replay", "--config",
            ReplayGoldenTest.DEMO.resolve("config.json").toString(), "--in", trace.toString(), "--out",
            out.toString()));
        assertEquals(1, Traces.preload(out.resolve("drops.pcap")).count());
        // Sent: the ARP request for the client, from the undeliverable ICMP error.
        assertEquals(1, Traces.preload(out.resolve("Port1.pcap")).count());
    }

    @Test
    void tsharkIsThereInCi()
    {
        Assumptions.assumeTrue(System.getenv("CI") != null, "only checked in CI");
        assertTrue(Files.isExecutable(Path.of("/usr/bin/tshark")), "CI installs tshark for the output checks");
    }
}
