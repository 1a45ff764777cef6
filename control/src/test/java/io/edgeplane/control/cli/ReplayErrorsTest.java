package io.edgeplane.control.cli;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.control.replay.DemoTrace;
import io.edgeplane.route.RouteFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broken inputs end as one clear error line and a non-zero exit, never a stack trace. */
class ReplayErrorsTest
{
    @TempDir
    Path tmp;
    private Path config;
    private byte[] validTrace;

    @BeforeEach
    void setUp() throws Exception
    {
        config = tmp.resolve("config.json");
        Files.copy(Path.of(System.getProperty("edgeplane.root", "..")).resolve("pcaps/demo/config.json"), config);
        final Path trace = tmp.resolve("valid.pcap");
        DemoTrace.write(trace);
        validTrace = Files.readAllBytes(trace);
    }

    private String runExpectingFailure(final Path in, final Path configFile)
    {
        final StringWriter err = new StringWriter();
        final int code = Main.execute(new PrintWriter(err, true), "replay", "--config", configFile.toString(),
            "--in", in.toString(), "--out", tmp.resolve("out").toString());
        final String text = err.toString().strip();
        assertNotEquals(0, code, "exit code");
        assertEquals(1, text.lines().count(), "one line: " + text);
        assertTrue(text.startsWith("edgeplane: error: "), text);
        assertFalse(text.contains("Exception"), text);
        return text;
    }

    private Path write(final String name, final byte[] bytes) throws Exception
    {
        final Path path = tmp.resolve(name);
        Files.write(path, bytes);
        return path;
    }

    @Test
    void shouldRejectBadMagic() throws Exception
    {
        final byte[] bytes = validTrace.clone();
        bytes[0] = 0x12;
        bytes[1] = 0x34;
        assertTrue(runExpectingFailure(write("magic.pcap", bytes), config).contains("not a readable pcap"));
    }

    @Test
    void shouldRejectTruncatedRecord() throws Exception
    {
        final String error = runExpectingFailure(write("cut.pcap", Arrays.copyOf(validTrace, validTrace.length - 7)),
            config);
        assertTrue(error.contains("bad record 22"), error);
    }

    @Test
    void shouldRejectAbsurdCaplen() throws Exception
    {
        final byte[] bytes = validTrace.clone();
        // First record header starts after the 24-byte global header: ts_sec, ts_usec, incl_len, orig_len.
        ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).putInt(24 + 8, 0x7FFF_FFF0);
        final String error = runExpectingFailure(write("caplen.pcap", bytes), config);
        assertTrue(error.contains("bad record 1"), error);
    }

    @Test
    void shouldRejectUnsupportedLinkType() throws Exception
    {
        final byte[] bytes = validTrace.clone();
        ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).putInt(20, 105);
        assertTrue(runExpectingFailure(write("wifi.pcap", bytes), config).contains("unsupported link type"));
    }

    @Test
    void shouldRejectMissingTraceAndConfig() throws Exception
    {
        assertTrue(runExpectingFailure(tmp.resolve("nope.pcap"), config).contains("no such file"));
        final Path trace = write("ok.pcap", validTrace);
        assertTrue(runExpectingFailure(trace, tmp.resolve("nope.json")).contains("no such file"));
        final Path badConfig = write("bad.json", "{ \"ports\": [ { \"name\": \"Port1\" } ] }".getBytes());
        assertTrue(runExpectingFailure(trace, badConfig).contains("ports[0].mac: missing"));
    }

    @Test
    void shouldAnswerOddConfigFilesInOneReadableLine() throws Exception
    {
        final Path trace = write("ok.pcap", validTrace);
        final String text = Files.readString(config);
        assertTrue(runExpectingFailure(trace, write("null.json", "{ \"ports\": [ null ] }".getBytes()))
            .endsWith("ports[0]: must not be null"));
        assertTrue(runExpectingFailure(trace, write("latin1.json", new byte[] {'{', (byte)0xE9, '}'}))
            .endsWith("not UTF-8 text (a config file is JSON, RFC 8259 §8.1)"));
        // A control character in a value is echoed escaped, not written to the terminal.
        final String nul = runExpectingFailure(trace, write("nul.json",
            text.replace("\"192.168.20.0/24\"", "\"192.168.20.0/24\\u0000\"").getBytes()));
        assertTrue(nul.contains("\\u0000"), nul);
        assertFalse(nul.chars().anyMatch(Character::isISOControl), nul);
        // A value too long to read is cut in the middle: the field path and the reason stay.
        final String longName = runExpectingFailure(trace, write("long.json",
            text.replace("\"Port1\"", "\"" + "P".repeat(100_000) + "\"").getBytes()));
        assertTrue(longName.length() < 1200, "length " + longName.length());
        assertTrue(longName.contains("ports[0].name: 'PPP"), longName);
        assertTrue(longName.contains("characters left out"), longName);
        assertTrue(longName.endsWith("'-'"), longName);
        // A route file is UTF-8 text (comments may say anything); other bytes are named as such, not as a
        // decoder's "Input length = 1".
        final Path routes = write("routes.txt", new byte[] {'8', '.', '8', '.', '8', '.', '0', '/', '2', '4', ' ',
            '#', ' ', (byte)0xE9, '\n'});
        final StringWriter err = new StringWriter();
        assertNotEquals(0, Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(), "--in",
            trace.toString(), "--out", tmp.resolve("out").toString(), "--routes", routes.toString()));
        assertTrue(err.toString().strip().endsWith("routes.txt: not UTF-8 text"), err.toString());
    }

    @Test
    void shouldReadConfigAndRouteFilesOnlyUpToABound() throws Exception
    {
        final Path trace = write("ok.pcap", validTrace);
        // A config file past the bound (sparse: no disk used) is refused before it is read into memory whole.
        final Path huge = tmp.resolve("huge.json");
        try (RandomAccessFile file = new RandomAccessFile(huge.toFile(), "rw"))
        {
            file.setLength(ConfigLoader.MAX_FILE_BYTES + 1L);
        }
        assertTrue(runExpectingFailure(trace, huge).endsWith("huge.json: larger than 64 MiB, not a config file " +
            "(large route tables go in a route file: --routes)"));
        // A route file's lines are bounded: a line of 4,096 characters is read, one more is refused.
        final Path routes = write("long-line.txt", ("# " + "x".repeat(RouteFile.MAX_LINE - 2) + "\n" +
            "8.8.8.0/24 10.2.0.254\n#" + "y".repeat(RouteFile.MAX_LINE) + "\n").getBytes());
        final StringWriter err = new StringWriter();
        assertNotEquals(0, Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(), "--in",
            trace.toString(), "--out", tmp.resolve("out").toString(), "--routes", routes.toString()));
        assertEquals("edgeplane: error: " + routes + ": line 3 longer than 4096 characters, not a route file",
            err.toString().strip());
        // Files that never end: one line each, not the JVM out of memory reading them.
        final Path zero = Path.of("/dev/zero");
        if (Files.isReadable(zero))
        {
            assertTrue(runExpectingFailure(trace, zero).endsWith("/dev/zero: larger than 64 MiB, not a config " +
                "file (large route tables go in a route file: --routes)"));
            final StringWriter zeroErr = new StringWriter();
            assertNotEquals(0, Main.execute(new PrintWriter(zeroErr, true), "replay", "--config",
                config.toString(), "--in", trace.toString(), "--out", tmp.resolve("out").toString(), "--routes",
                zero.toString()));
            assertEquals("edgeplane: error: /dev/zero: line 1 longer than 4096 characters, not a route file",
                zeroErr.toString().strip());
        }
    }

    @Test
    void shouldSayWhyTheOutputDirectoryCannotBeMade() throws Exception
    {
        final Path trace = write("ok.pcap", validTrace);
        final Path file = write("a-file", new byte[] {1});
        for (final Path out : List.of(file, file.resolve("sub")))
        {
            final StringWriter err = new StringWriter();
            assertEquals(1, Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(), "--in",
                trace.toString(), "--out", out.toString()));
            assertEquals("edgeplane: error: " + out + ": cannot prepare output directory (" +
                (out.equals(file) ? "exists and is not a directory" : "Not a directory") + ")", err.toString().strip());
        }
    }

    @Test
    void shouldRefuseABenchmarkTimeThatIsNotANumberOfSeconds() throws Exception
    {
        final Path trace = write("ok.pcap", validTrace);
        for (final String seconds : List.of("NaN", "0", "-1", "3601", "Infinity"))
        {
            final StringWriter err = new StringWriter();
            assertEquals(1, Main.execute(new PrintWriter(err, true), "bench", "--config", config.toString(), "--in",
                trace.toString(), "--seconds", seconds));
            assertTrue(err.toString().strip().matches("edgeplane: error: --seconds: .* not in \\(0, 3600]"),
                err.toString());
        }
    }

    @Test
    void shouldSayWhenAnInputNamesNoFile()
    {
        final StringWriter err = new StringWriter();
        assertNotEquals(0, Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(), "--in",
            "Port1=", "--out", tmp.resolve("out").toString()));
        assertEquals("edgeplane: error: --in Port1=: no file given (PORT=FILE or FILE)", err.toString().strip());
    }

    @Test
    void shouldSayADirectoryIsNotATrace() throws Exception
    {
        final String error = runExpectingFailure(tmp, config);
        assertTrue(error.contains("is a directory"), error);
    }

    @Test
    void shouldFailInOneLineAndLeaveNoPartialOutputsOnAFullDisk() throws Exception
    {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
            "mounting a small tmpfs needs root (CI runs this as root)");
        // A trace whose outputs (about 1.5 MB) cannot fit a 256 KiB file system.
        final Path big = tmp.resolve("big.pcap");
        try (io.edgeplane.control.replay.PcapWriter writer = new io.edgeplane.control.replay.PcapWriter(big))
        {
            final byte[] frame = io.edgeplane.testing.Frames.udpFrame(DemoTrace.PORT1_MAC, DemoTrace.CLIENT_MAC,
                DemoTrace.CLIENT, io.edgeplane.testing.Frames.ip("192.168.20.9"), 64, 1, 2, 1000);
            for (int i = 0; i < 1500; i++)
            {
                writer.write(frame, 1_000_000L * i);
            }
        }
        final Path mount = Files.createDirectories(tmp.resolve("small"));
        final Process mountProcess = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "edgeplane-test",
            mount.toString()).start();
        assertEquals(0, mountProcess.waitFor());
        try
        {
            final StringWriter err = new StringWriter();
            final int code = Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(),
                "--in", big.toString(), "--out", mount.resolve("out").toString());
            final String text = err.toString().strip();
            assertNotEquals(0, code);
            assertEquals(1, text.lines().count(), text);
            assertTrue(text.contains("No space left on device"), text);
            try (var files = Files.list(mount.resolve("out")))
            {
                assertEquals(List.of(), files.toList(), "no partial pcaps left behind");
            }
        }
        finally
        {
            new ProcessBuilder("umount", mount.toString()).start().waitFor();
        }
    }

    @Test
    void shouldRejectUnknownInPort() throws Exception
    {
        final StringWriter err = new StringWriter();
        final int code = Main.execute(new PrintWriter(err, true), "replay", "--config", config.toString(),
            "--in", write("ok.pcap", validTrace).toString(), "--out", tmp.resolve("out").toString(),
            "--in-port", "Port9");
        assertNotEquals(0, code);
        assertEquals("edgeplane: error: --in-port: unknown port Port9", err.toString().strip());
    }
}
