package io.edgeplane.control.cli;

import io.edgeplane.control.api.GatewayProcess;
import io.edgeplane.control.replay.Replay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The replay server answers as the command does in a process of its own (the oracle: the CLI run in the same
 * directory with the server switched off), for the client's working directory; and no client can stop it serving
 * the others: one that sends nothing, one that leaves mid-replay, one that never reads.
 */
class ReplayServerTest
{
    private static final Path ROOT = Path.of(System.getProperty("edgeplane.root", ".."));
    private static final long TIMEOUT_MS = 1_500;

    @TempDir
    Path tmp;
    private ReplayServer server;
    private Thread serving;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private volatile Throwable serveFailure;
    /** The server's view of its own jars (this build's, as clients send it): a test changes it as a rebuild would. */
    private final AtomicReference<String> jars = new AtomicReference<>(ReplayServer.build());

    private record Served(int code, String out, String err)
    {
    }

    @BeforeEach
    void start()
    {
        server = ReplayServer.open(tmp.resolve("run").resolve("replay.sock"), 0, TIMEOUT_MS, TIMEOUT_MS, jars::get,
            new PrintStream(log, true, StandardCharsets.UTF_8));
        serving = serveInBackground(server);
    }

    /** {@code server} serving on a thread of its own; a failure is kept for {@link #stop} to report. */
    private Thread serveInBackground(final ReplayServer server)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                server.serve();
            }
            catch (final Throwable ex)
            {
                serveFailure = ex;
            }
        }, "replay-server-test");
        thread.start();
        return thread;
    }

    @AfterEach
    void stop() throws InterruptedException
    {
        server.close();
        serving.join(10_000);
        assertFalse(serving.isAlive(), "the server did not stop when closed");
        assertEquals(null, serveFailure, "the server failed: " + serveFailure);
        assertFalse(Files.exists(server.socket()), "closing leaves no socket behind");
    }

    private Served served(final Path directory, final String... arguments)
    {
        return served(server.socket(), directory, arguments);
    }

    private static Served served(final Path socket, final Path directory, final String... arguments)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int code = ReplayServer.Client.replay(socket, arguments, directory, false,
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Served(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String log()
    {
        return log.toString(StandardCharsets.UTF_8);
    }

    private Path workDirectory() throws IOException
    {
        final Path work = Files.createDirectories(tmp.resolve("work"));
        Files.copy(ROOT.resolve("pcaps/demo/config.json"), work.resolve("config.json"));
        Files.copy(ROOT.resolve("pcaps/demo/trace.pcap"), work.resolve("trace.pcap"));
        return work;
    }

    /** The summary without its one timing ("in 8.4 ms") and with the output directory's name replaced. */
    private static String comparable(final String summary, final String outName)
    {
        return summary.replaceFirst("in [0-9.]+ ms", "in T ms").replace(outName + "/", "OUT/");
    }

    @Test
    void shouldReplayForTheClientsDirectoryAsTheCommandDoesInAProcessOfItsOwnThere() throws Exception
    {
        final Path work = workDirectory();
        final Served served = served(work, "replay", "--config", "config.json", "--in", "trace.pcap", "--out",
            "served", "--trace", "8");
        assertEquals(0, served.code(), served.err());
        assertEquals("", served.err());

        final List<String> command = new ArrayList<>(GatewayProcess.javaCommand());
        command.addAll(List.of("replay", "--config", "config.json", "--in", "trace.pcap", "--out", "alone",
            "--trace", "8"));
        final ProcessBuilder alone = new ProcessBuilder(command).directory(work.toFile())
            .redirectOutput(tmp.resolve("alone.out").toFile()).redirectError(tmp.resolve("alone.err").toFile());
        alone.environment().put(ReplayServer.ENVIRONMENT, "off");
        final Process process = alone.start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the replay alone did not end within 120 s");
        assertEquals(0, process.exitValue(), Files.readString(tmp.resolve("alone.err")));
        assertEquals("", Files.readString(tmp.resolve("alone.err")));

        assertEquals(comparable(Files.readString(tmp.resolve("alone.out")), "alone"),
            comparable(served.out(), "served"));
        assertTrue(served.out().contains("  Port2      served/Port2.pcap\n"), "named as the client named them: " +
            served.out());
        final List<String> names = names(work.resolve("alone"));
        assertEquals(List.of("Port1.pcap", "Port2.pcap", "Port3.pcap", "counters.json", "drops.pcap", "trace.txt"),
            names);
        assertEquals(names, names(work.resolve("served")));
        for (final String name : names)
        {
            assertArrayEquals(Files.readAllBytes(work.resolve("alone").resolve(name)),
                Files.readAllBytes(work.resolve("served").resolve(name)), name);
        }
        assertTrue(log().contains("-> exit 0"), log());
    }

    private static List<String> names(final Path directory) throws IOException
    {
        try (Stream<Path> files = Files.list(directory))
        {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void shouldAnswerMistakesAndHelpAsTheCommandDoes() throws Exception
    {
        final Path work = workDirectory();
        final String config = work.resolve("config.json").toString();
        final String trace = work.resolve("trace.pcap").toString();
        final String out = work.resolve("out").toString();
        final List<String[]> cases = List.of(
            new String[] {"replay", "--config", config, "--in", work.resolve("missing.pcap").toString(), "--out", out},
            new String[] {"replay", "--config", trace, "--in", trace, "--out", out},
            new String[] {"replay", "--in", trace, "--out", out},
            new String[] {"replay", "--config", config, "--in", trace, "--out", out, "--trace", "-1"},
            new String[] {"replay", "--config", config, "--in", trace, "--out", out, "--in-port", "Port9"},
            new String[] {"replay", "--help"});
        final List<Integer> codes = new ArrayList<>();
        for (final String[] arguments : cases)
        {
            final StringWriter aloneOut = new StringWriter();
            final StringWriter aloneErr = new StringWriter();
            final int code = Main.execute(new PrintWriter(aloneOut, true), new PrintWriter(aloneErr, true), null,
                arguments);
            final Served served = served(work, arguments);
            final String what = String.join(" ", arguments);
            assertEquals(code, served.code(), what);
            assertEquals(aloneOut.toString(), served.out(), what);
            assertEquals(aloneErr.toString(), served.err(), what);
            codes.add(code);
        }
        assertEquals(List.of(1, 1, Main.EXIT_USAGE, 1, 1, 0), codes, "the cases are the failures they mean to be");
    }

    @Test
    void shouldSendAClientOfAnotherBuildAwaySoThatItReplaysItself() throws Exception
    {
        final ReplayServer other = ReplayServer.open(tmp.resolve("other").resolve("replay.sock"), 0, TIMEOUT_MS,
            TIMEOUT_MS, () -> "another build", new PrintStream(log, true, StandardCharsets.UTF_8));
        final Thread otherServing = serveInBackground(other);
        try
        {
            final Path work = workDirectory();
            final Served served = served(other.socket(), work, "replay", "--config", "config.json", "--in",
                "trace.pcap", "--out", "out");
            assertEquals(ReplayServer.Client.NOT_SERVED, served.code());
            assertTrue(served.err().contains("runs another build (restart it); replaying here"), served.err());
            assertFalse(Files.exists(work.resolve("out")), "the other build replayed nothing");
        }
        finally
        {
            other.close();
            otherServing.join(10_000);
        }
    }

    @Test
    void shouldEndWhenItsJarsWereRebuiltAndSendClientsToReplayThemselves() throws Exception
    {
        final Path work = workDirectory();
        assertEquals(0, served(work, "replay", "--help").code());
        jars.set("jars after a rebuild");
        final Served after = CompletableFuture.supplyAsync(() -> served(work, "replay", "--config", "config.json",
            "--in", "trace.pcap", "--out", "out")).get(30, TimeUnit.SECONDS);
        assertEquals(ReplayServer.Client.NOT_SERVED, after.code());
        assertTrue(after.err().contains("runs another build (restart it); replaying here"), after.err());
        assertFalse(Files.exists(work.resolve("out")), "the rebuilt server replayed nothing");
        serving.join(10_000);
        assertFalse(serving.isAlive(), "the server ended by itself");
        assertTrue(log().contains("its jars were rebuilt since it started; exiting"), log());
    }

    @Test
    void shouldReplayHereWhenTheServerClosesBeforeAnAnswerAndFailAfterOne() throws Exception
    {
        final Path socket = Files.createDirectories(tmp.resolve("fake")).resolve("replay.sock");
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwx------"));
        try (ServerSocketChannel fake = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            fake.bind(UnixDomainSocketAddress.of(socket));
            for (final boolean partial : new boolean[] {false, true})
            {
                final CompletableFuture<Served> client = CompletableFuture.supplyAsync(() ->
                    served(socket, tmp, "replay", "--help"));
                try (SocketChannel accepted = fake.accept())
                {
                    accepted.read(ByteBuffer.allocate(8)); // the request's start; then the server is gone
                    if (partial)
                    {
                        final byte[] text = "part of a summary\n".getBytes(StandardCharsets.UTF_8);
                        accepted.write(ByteBuffer.allocate(5 + text.length).put(ReplayServer.OUT)
                            .putInt(text.length).put(text).flip());
                    }
                }
                final Served served = client.get(30, TimeUnit.SECONDS);
                if (partial)
                {
                    assertEquals(Main.EXIT_FAILURE, served.code(), "half an answer cannot be replayed again");
                    assertEquals("part of a summary\n", served.out());
                    assertTrue(served.err().contains("ended the connection before the replay's end"), served.err());
                }
                else
                {
                    assertEquals(ReplayServer.Client.NOT_SERVED, served.code());
                    assertTrue(served.err().contains("closed the connection without an answer (") &&
                        served.err().contains("); replaying here"), served.err());
                }
            }
        }
    }

    @Test
    void shouldLeaveTheReplayToTheCallerWhenNoServerListens() throws Exception
    {
        final Path dead = Files.createDirectories(tmp.resolve("dead")).resolve("replay.sock");
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            gone.bind(UnixDomainSocketAddress.of(dead)); // closing leaves the file, as a killed server does
        }
        assertTrue(Files.exists(dead));
        final Served served = served(dead, tmp, "replay", "--help");
        assertEquals(ReplayServer.Client.NOT_SERVED, served.code());
        assertEquals("", served.err(), "a server that is gone is no error: the replay runs here");
        assertEquals(ReplayServer.Client.NOT_SERVED, served(tmp.resolve("none.sock"), tmp, "replay").code());

        // A new server takes the dead one's place; a live one's is refused.
        final ReplayServer replacing = ReplayServer.open(dead, 0, new PrintStream(OutputStream.nullOutputStream()));
        replacing.close();
        final Main.UserError twice = assertThrows(Main.UserError.class,
            () -> ReplayServer.open(server.socket(), 0, new PrintStream(OutputStream.nullOutputStream())));
        assertTrue(twice.getMessage().contains("a replay server already listens on"), twice.getMessage());
        assertEquals(0, served(tmp, "replay", "--help").code(), "the first server still serves");
    }

    @Test
    void shouldNotListenOrConnectInADirectoryOthersCanWrite() throws Exception
    {
        final Path shared = Files.createDirectories(tmp.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        final Main.UserError refused = assertThrows(Main.UserError.class, () -> ReplayServer.open(
            shared.resolve("replay.sock"), 0, new PrintStream(OutputStream.nullOutputStream())));
        assertTrue(refused.getMessage().contains("writable by others"), refused.getMessage());

        // A socket someone else put there (any process could have): the client does not talk to it.
        try (ServerSocketChannel planted = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            planted.bind(UnixDomainSocketAddress.of(shared.resolve("replay.sock")));
            final Served served = served(shared.resolve("replay.sock"), tmp, "replay", "--help");
            assertEquals(ReplayServer.Client.NOT_SERVED, served.code());
            assertTrue(served.err().contains("not using the replay server at") &&
                served.err().contains("writable by others"), served.err());
        }
        assertEquals("rwx------", PosixFilePermissions.toString(
            Files.getPosixFilePermissions(server.socket().getParent())), "the server made its directory private");
    }

    @Test
    void shouldNotListenOrConnectInADirectoryOfAnotherUser() throws Exception
    {
        assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")),
            "only root can give a directory to another user (CI runs as root)");
        final Path theirs = Files.createDirectories(tmp.resolve("theirs"));
        Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("rwx------"));
        try (ServerSocketChannel planted = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            planted.bind(UnixDomainSocketAddress.of(theirs.resolve("replay.sock")));
            Files.setAttribute(theirs, "unix:uid", 65534); // nobody
            final Main.UserError refused = assertThrows(Main.UserError.class, () -> ReplayServer.open(
                theirs.resolve("other.sock"), 0, new PrintStream(OutputStream.nullOutputStream())));
            assertTrue(refused.getMessage().contains("not to this user"), refused.getMessage());
            final Served served = served(theirs.resolve("replay.sock"), tmp, "replay", "--help");
            assertEquals(ReplayServer.Client.NOT_SERVED, served.code());
            assertTrue(served.err().contains("not to this user"), served.err());
        }
    }

    @Test
    void shouldDropAClientThatSendsNoRequestAndServeTheNext() throws Exception
    {
        try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(server.socket())))
        {
            silent.write(ByteBuffer.wrap(new byte[] {0x45, 0x50})); // two bytes of a magic, then nothing
            final Path work = workDirectory();
            final CompletableFuture<Served> next = CompletableFuture.supplyAsync(() -> served(work, "replay",
                "--config", "config.json", "--in", "trace.pcap", "--out", "out"));
            final Served served = next.get(60, TimeUnit.SECONDS);
            assertEquals(0, served.code(), served.err());
            assertTrue(log().contains("no complete request within " + TIMEOUT_MS + " ms"), log());
            assertTrue(closed(silent), "the silent client was disconnected");
        }
    }

    @Test
    void shouldDropRequestsThatAreNotOnesAndServeTheNext() throws Exception
    {
        final Path work = workDirectory();
        final byte[] valid = ReplayServer.Client.request(new String[] {"replay", "--help"}, work, false);
        final byte[] wrongMagic = valid.clone();
        wrongMagic[0] ^= 1;
        final byte[] hugeLength = valid.clone();
        ByteBuffer.wrap(hugeLength).putInt(4, Integer.MAX_VALUE);
        final List<byte[]> requests = List.of(wrongMagic, hugeLength,
            ReplayServer.Client.request(new String[] {"replay", "--help"}, "relative", false),
            ReplayServer.Client.request(new String[] {"replay", "--help"}, "/tmp/a\0b", false),
            ReplayServer.Client.request(new String[] {"fib", "lookup"}, work, false),
            ReplayServer.Client.request(new String[0], work, false),
            Arrays.copyOf(valid, valid.length - 3));
        for (final byte[] request : requests)
        {
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(server.socket())))
            {
                client.write(ByteBuffer.wrap(request));
                if (request.length == valid.length - 3)
                {
                    client.shutdownOutput(); // the request cut short, then the end
                }
                // Bounded: a server that stopped serving leaves the connection in its backlog, unanswered.
                assertTrue(CompletableFuture.supplyAsync(() -> closed(client)).get(30, TimeUnit.SECONDS),
                    "no answer, the connection closed");
            }
        }
        assertEquals(requests.size(), log().lines().filter(line -> line.contains("a client was dropped")).count(),
            log());
        assertEquals(0, CompletableFuture.supplyAsync(() -> served(work, "replay", "--help")).get(30,
            TimeUnit.SECONDS).code(), "still serving");
    }

    /** The server closed the connection without a frame (an end, or a reset: it left the request unread). */
    private static boolean closed(final SocketChannel client)
    {
        try
        {
            return client.read(ByteBuffer.allocate(64)) == -1;
        }
        catch (final IOException ex)
        {
            return ex.getMessage() != null && ex.getMessage().contains("Connection reset");
        }
    }

    @Test
    void shouldAbandonAReplayWhoseClientLeftAndRemoveItsOutputs() throws Exception
    {
        final Path work = workDirectory();
        final Path fifo = work.resolve("live.pcap");
        final Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo failed");
        final byte[] trace = Files.readAllBytes(work.resolve("trace.pcap"));
        final int first = 16 + ByteBuffer.wrap(trace).order(ByteOrder.LITTLE_ENDIAN).getInt(24 + 8);
        final byte[] record = Arrays.copyOfRange(trace, 24, 24 + first);

        final SocketChannel leaving = SocketChannel.open(UnixDomainSocketAddress.of(server.socket()));
        leaving.write(ByteBuffer.wrap(ReplayServer.Client.request(new String[] {"replay", "--config",
            "config.json", "--in", "live.pcap", "--out", "out"}, work, false)));
        // The server is reading the trace as it is written: a vector's worth, then the client leaves, then enough
        // for many more vectors (the server looks for its client every 32 of them), then the end of the file.
        try (OutputStream writer = Files.newOutputStream(fifo))
        {
            writer.write(trace, 0, 24);
            writeRecords(writer, record, 1_000);
            writer.flush();
            awaitFile(work.resolve("out"));
            leaving.close();
            writeRecords(writer, record, 40_000);
        }
        catch (final IOException ex)
        {
            // The server stopped reading (it abandoned the replay and closed the trace): what this test wants.
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!log().contains("(client gone)") && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
        }
        assertTrue(log().contains("-> exit 1") && log().contains("(client gone)"), log());
        assertEquals(List.of(), names(work.resolve("out")), "an abandoned replay leaves no outputs");

        final Served next = served(work, "replay", "--config", "config.json", "--in", "trace.pcap", "--out", "out");
        assertEquals(0, next.code(), next.err());
        assertTrue(names(work.resolve("out")).contains("Port2.pcap"));
    }

    private static void writeRecords(final OutputStream writer, final byte[] record, final int count)
        throws IOException
    {
        for (int i = 0; i < count; i++)
        {
            writer.write(record);
        }
        writer.flush();
    }

    private static void awaitFile(final Path path) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(path))
        {
            if (System.nanoTime() > deadline)
            {
                fail(path + " did not appear within 30 s");
            }
            Thread.sleep(5);
        }
    }

    @Test
    void shouldDrawProgressOnlyForAClientWhoseStderrIsATerminal() throws Exception
    {
        final Path work = workDirectory();
        final byte[] demo = Files.readAllBytes(work.resolve("trace.pcap"));
        final int first = 16 + ByteBuffer.wrap(demo).order(ByteOrder.LITTLE_ENDIAN).getInt(24 + 8);
        final int frames = Replay.PROGRESS_FRAMES + 10_000;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(work.resolve("long.pcap")), 1 << 20))
        {
            out.write(demo, 0, 24);
            writeRecords(out, Arrays.copyOfRange(demo, 24, 24 + first), frames);
        }
        for (final boolean terminal : new boolean[] {true, false})
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            final int code = ReplayServer.Client.replay(server.socket(), new String[] {"replay", "--config",
                "config.json", "--in", "long.pcap", "--out", "out"}, work, terminal,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            final String errText = err.toString(StandardCharsets.UTF_8);
            assertEquals(0, code, errText);
            assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("replayed " + frames + " packets"));
            if (terminal)
            {
                assertTrue(errText.matches("\r[0-9,]+ packets  [0-9.]+ s  [0-9.]+ Mpps \n"), errText);
            }
            else
            {
                assertEquals("", errText, "not a terminal: no progress line");
            }
        }
    }

    @Test
    void shouldServeClientsThatComeTogetherOneAfterTheOther() throws Exception
    {
        final Path work = workDirectory();
        final List<CompletableFuture<Served>> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            final String out = "out" + i;
            clients.add(CompletableFuture.supplyAsync(() -> served(work, "replay", "--config", "config.json",
                "--in", "trace.pcap", "--out", out)));
        }
        for (int i = 0; i < clients.size(); i++)
        {
            final Served served = clients.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(0, served.code(), served.err());
            assertArrayEquals(Files.readAllBytes(work.resolve("out0").resolve("Port2.pcap")),
                Files.readAllBytes(work.resolve("out" + i).resolve("Port2.pcap")));
        }
        assertEquals(4, server.served());
    }

    @Test
    void shouldGiveUpOnAClientThatDoesNotReadItsAnswer() throws Exception
    {
        final Path socket = tmp.resolve("run").resolve("frames.sock");
        try (ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            listening.bind(UnixDomainSocketAddress.of(socket));
            try (SocketChannel reader = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                SocketChannel writer = listening.accept();
                Selector wait = Selector.open())
            {
                writer.configureBlocking(false);
                final SelectionKey key = writer.register(wait, SelectionKey.OP_WRITE);
                final ReplayServer.Frames frames = new ReplayServer.Frames(writer, wait, key, 300);
                frames.send(ReplayServer.OUT, new byte[100]);
                final IOException stuck = assertThrows(IOException.class,
                    () -> frames.send(ReplayServer.ERR, new byte[8 << 20]));
                assertTrue(stuck.getMessage().contains("read nothing for 300 ms"), stuck.getMessage());
                assertTrue(frames.broken, "the client counts as gone");
                assertThrows(IOException.class, () -> frames.send(ReplayServer.OUT, new byte[1]));
                // What it did receive are whole frames in order.
                final DataInputStream in = new DataInputStream(Channels.newInputStream(reader));
                assertEquals(ReplayServer.OUT, in.readByte());
                assertEquals(100, in.readInt());
            }
        }
    }

    @Test
    void shouldExitWhenIdleForItsTimeout() throws Exception
    {
        final ByteArrayOutputStream idleLog = new ByteArrayOutputStream();
        try (ReplayServer idle = ReplayServer.open(tmp.resolve("idle").resolve("replay.sock"), 200,
            new PrintStream(idleLog, true, StandardCharsets.UTF_8)))
        {
            final CompletableFuture<Void> serving = CompletableFuture.runAsync(() ->
            {
                try
                {
                    idle.serve();
                }
                catch (final IOException ex)
                {
                    throw new RuntimeException(ex);
                }
            });
            serving.get(30, TimeUnit.SECONDS);
            assertTrue(idleLog.toString(StandardCharsets.UTF_8).contains("idle for"), idleLog.toString());
        }
    }
}
