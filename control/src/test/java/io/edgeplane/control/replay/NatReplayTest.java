package io.edgeplane.control.replay;

import io.edgeplane.control.cli.Main;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled NAT case through the replay command (two inputs, one per port, merged by time), and its outputs and
 * the services case's checked by tshark: every IPv4, UDP, TCP and ICMP checksum the gateway rewrote verifies.
 */
class NatReplayTest
{
    static final Path NAT = ReplayGoldenTest.ROOT.resolve("pcaps/nat");

    @Test
    void shouldReplayBothDirectionsFromTheCommandLine(@TempDir final Path tmp) throws Exception
    {
        final StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(err, true), "replay", "--config",
            NAT.resolve("config.json").toString(), "--in", "Port4=" + NAT.resolve("inside.pcap"), "--in",
            "Port2=" + NAT.resolve("outside.pcap"), "--out", tmp.toString(), "--trace", "100"), err.toString());
        for (final String file : List.of("Port2.pcap", "Port4.pcap", "drops.pcap", "trace.txt"))
        {
            assertArrayEquals(Files.readAllBytes(NAT.resolve("expected").resolve(file)),
                Files.readAllBytes(tmp.resolve(file)), file);
        }
        final StringWriter bad = new StringWriter();
        assertEquals(1, Main.execute(new PrintWriter(bad, true), "replay", "--config",
            NAT.resolve("config.json").toString(), "--in", "Port9=" + NAT.resolve("inside.pcap"), "--out",
            tmp.toString()));
        assertTrue(bad.toString().contains("--in Port9="), bad.toString());
        assertTrue(bad.toString().contains("unknown port Port9"), bad.toString());
        final StringWriter twice = new StringWriter();
        assertEquals(1, Main.execute(new PrintWriter(twice, true), "replay", "--config",
            NAT.resolve("config.json").toString(), "--in", "Port4=" + NAT.resolve("inside.pcap"), "--in",
            "Port4=" + NAT.resolve("outside.pcap"), "--out", tmp.toString()));
        assertTrue(twice.toString().contains("a second input for Port4"), twice.toString());
    }

    @Test
    void everyRewrittenChecksumShouldVerifyInTshark() throws Exception
    {
        assertEquals(12, verifiedFrames(NAT, List.of("Port2", "Port4")), "the twelve forwarded frames");
    }

    @Test
    void everyServiceTranslationShouldVerifyInTsharkToo() throws Exception
    {
        assertEquals(11, verifiedFrames(ReplayGoldenTest.ROOT.resolve("pcaps/services"), List.of("Port1", "Port4")),
            "the eleven IPv4 frames sent (the ARP reply aside)");
    }

    /** Check every IPv4 frame of the case's expected outputs with tshark; returns how many there were. */
    private static int verifiedFrames(final Path bundled, final List<String> ports) throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tshark")), "tshark not installed; CI installs it");
        int frames = 0;
        for (final String port : ports)
        {
            final Process tshark = new ProcessBuilder("tshark", "-r", bundled.resolve("expected/" + port + ".pcap")
                .toString(), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o",
                "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=;", "-e", "ip.checksum.status", "-e",
                "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "icmp.checksum.status").start();
            final String output = new String(tshark.getInputStream().readAllBytes());
            assertTrue(tshark.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, tshark.exitValue(), output);
            for (final String line : output.lines().filter(l -> !l.isBlank() && !l.matches(";*")).toList())
            {
                frames++;
                // 1 is "good"; 2 ("unverified") only for a quoted, truncated datagram inside an ICMP error.
                for (final String status : line.split("[;,]"))
                {
                    assertTrue(status.isEmpty() || status.equals("1") || status.equals("2") && line.endsWith(";1"),
                        port + ": " + line);
                }
                assertTrue(line.matches("1.*"), port + ": " + line);
            }
        }
        return frames;
    }
}
