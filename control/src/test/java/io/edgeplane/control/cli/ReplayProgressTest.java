package io.edgeplane.control.cli;

import io.edgeplane.control.api.GatewayProcess;
import io.edgeplane.control.replay.Replay;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The progress line of a long replay is for a person at a terminal: it goes to stderr when stderr is a terminal,
 * whatever stdout is (the summary redirected to a file), and never into a file. The terminal is a real pty from
 * util-linux's {@code script}; the replay is the CLI in its own JVM.
 */
class ReplayProgressTest
{
    private static final int FRAMES = Replay.PROGRESS_FRAMES + 50_000;

    @TempDir
    static Path dir;
    private static Path config;
    private static Path trace;

    /** A trace just past one progress step: the demo trace's first frame, repeated. */
    @BeforeAll
    static void writeTrace() throws IOException
    {
        final Path root = Path.of(System.getProperty("edgeplane.root", ".."));
        config = root.resolve("pcaps/demo/config.json");
        final ByteBuffer demo = ByteBuffer.wrap(Files.readAllBytes(root.resolve("pcaps/demo/trace.pcap")))
            .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xA1B2C3D4, demo.getInt(0), "the demo trace is a little-endian microsecond pcap");
        final int record = 16 + demo.getInt(24 + 8);
        trace = dir.resolve("long.pcap");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(trace), 1 << 20))
        {
            out.write(demo.array(), 0, 24);
            for (int i = 0; i < FRAMES; i++)
            {
                out.write(demo.array(), 24, record);
            }
        }
    }

    private static String quoted(final List<String> command)
    {
        return command.stream().map(arg -> "'" + arg.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }

    private static List<String> replay(final String out)
    {
        final List<String> command = new ArrayList<>(GatewayProcess.javaCommand());
        command.addAll(List.of("replay", "--config", config.toString(), "--in", trace.toString(), "--out",
            dir.resolve(out).toString()));
        return command;
    }

    private static int run(final ProcessBuilder builder) throws Exception
    {
        // The replay runs in this process, not in a replay server the developer may have running (its own test
        // is ReplayServerTest).
        builder.environment().put(ReplayServer.ENVIRONMENT, "off");
        final Process process = builder.start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "replay did not end within 120 s");
        return process.exitValue();
    }

    @Test
    void shouldDrawProgressOnAStderrTerminalWhileTheSummaryGoesToAFile() throws Exception
    {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script (a pty) is not installed");
        final Path summary = dir.resolve("summary.txt");
        final Path typescript = dir.resolve("typescript");
        // script runs the command on a new pty: stdin, stdout and stderr are the terminal, then stdout is sent to
        // a file, leaving stderr alone on it.
        final ProcessBuilder builder = new ProcessBuilder("/usr/bin/script", "-q", "-e", "-c",
            quoted(replay("tty")) + " > '" + summary + "'", typescript.toString())
            .redirectInput(ProcessBuilder.Redirect.PIPE).redirectErrorStream(true)
            .redirectOutput(dir.resolve("script.out").toFile());
        assertEquals(0, run(builder), Files.readString(dir.resolve("script.out")));
        final String terminal = Files.readString(typescript, StandardCharsets.ISO_8859_1);
        assertTrue(terminal.contains("\r"), "no progress line on the terminal: " + terminal);
        assertTrue(terminal.matches("(?s).*\r[0-9][^\r]* packets  [0-9.]+ s  [0-9.]+ Mpps .*"), terminal);
        final String text = Files.readString(summary);
        assertTrue(text.startsWith("replayed " + FRAMES + " packets"), text);
        assertFalse(text.contains("Mpps \r") || text.contains("\r"), "progress went to the summary file: " + text);
    }

    @Test
    void shouldNotWriteProgressIntoAFile() throws Exception
    {
        final Path err = dir.resolve("stderr.txt");
        final ProcessBuilder builder = new ProcessBuilder(replay("file"))
            .redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(err.toFile());
        assertEquals(0, run(builder), Files.readString(err));
        assertEquals("", Files.readString(err), "stderr is a file: no progress line");
        assertTrue(Files.readString(dir.resolve("stdout.txt")).startsWith("replayed " + FRAMES + " packets"));
    }
}
