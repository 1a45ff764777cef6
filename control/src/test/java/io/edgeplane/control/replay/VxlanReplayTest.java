package io.edgeplane.control.replay;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VXLAN case's underlay output, judged by Wireshark's dissectors: VXLAN with VNI 42, nothing malformed. */
class VxlanReplayTest
{
    @Test
    void shouldEmitVxlanThatTsharkDecodesCleanly() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tshark")),
            "tshark not installed; CI installs it");
        final Path underlay = ReplayGoldenTest.ROOT.resolve("pcaps/vxlan/expected/Port3.pcap");
        final Process tshark = new ProcessBuilder("tshark", "-r", underlay.toString(), "-d", "udp.port==4789,vxlan",
            "-o", "ip.check_checksum:TRUE", "-T", "fields", "-e", "vxlan.vni", "-e", "ip.checksum.status", "-e",
            "_ws.expert.message").redirectErrorStream(false).start();
        final String output = new String(tshark.getInputStream().readAllBytes());
        assertTrue(tshark.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, tshark.exitValue(), output);
        final List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(4, lines.size(), output);
        for (final String line : lines)
        {
            assertTrue(line.startsWith("42\t"), line);
            assertFalse(line.toLowerCase().contains("malformed") || line.contains("Bad"), line);
        }
    }
}
