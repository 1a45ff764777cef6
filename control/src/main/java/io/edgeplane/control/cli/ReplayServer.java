package io.edgeplane.control.cli;

import io.edgeplane.stage.Dataplane;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A resident replay service, so that a replay need not start a JVM and warm its JIT: {@code edgeplane
 * replay-server} keeps one JVM running, and {@code edgeplane replay} hands it the command line when it finds the
 * server's Unix socket ({@link Client}); the server replays as the command would, for the client's working
 * directory, and sends back what the command prints and its exit code. Without a server, when the server runs
 * another build of Edgeplane, or when it closes the connection before sending anything, the client replays itself.
 * A server whose own jars change under it (a rebuild) sends the next client away and ends.
 * <p>
 * Protocol, one request per connection. Client to server: int magic {@code 'EPR1'}, int length, then that many
 * bytes: the build ({@link #build()}), the working directory, whether the client's stderr is a terminal, the
 * argument count and the arguments (Java's modified UTF-8). Server to client: frames of one byte kind and an int
 * length: {@link #OUT} and {@link #ERR} carry bytes for the client's stdout and stderr, {@link #EXIT} the exit code
 * (last), {@link #STALE} says the server runs another build (last). The client sends nothing after its request:
 * the socket's end is how the server learns that the client has gone (Ctrl-C), and it then abandons the replay
 * (outputs removed, as after any failure).
 * <p>
 * One thread serves one replay at a time; other clients wait in the listen backlog. The socket's directory must
 * belong to this user alone (whoever can write it could stand in for the server); the server makes it so, and the
 * client checks. A client that does not send its request within {@link #REQUEST_TIMEOUT_MS}, or does not read its
 * answer within {@link #WRITE_TIMEOUT_MS}, is dropped, so no client can stop the others.
 */
final class ReplayServer implements AutoCloseable
{
    static final int MAGIC = 0x45505231;
    static final byte OUT = 1;
    static final byte ERR = 2;
    static final byte EXIT = 3;
    static final byte STALE = 4;
    /** The environment variable naming the socket, or {@code off} for none. */
    static final String ENVIRONMENT = "EDGEPLANE_REPLAY_SERVER";
    static final int MAX_REQUEST = 1 << 20;
    static final long REQUEST_TIMEOUT_MS = 10_000;
    static final long WRITE_TIMEOUT_MS = 30_000;
    /** A served replay asks whether its client has gone once per this many vectors (a system call each time). */
    private static final int GONE_CHECK_VECTORS = 32;

    private final Path socket;
    private final ServerSocketChannel channel;
    private final Selector selector;
    private final long idleMillis;
    private final long requestTimeoutMillis;
    private final long writeTimeoutMillis;
    private final PrintStream log;
    /**
     * The jars this JVM runs from, as {@link #build()} sees them now, and as they were when it started: the build
     * it serves clients of.
     */
    private final Supplier<String> currentJars;
    private final String build;
    private volatile boolean closed;
    private volatile long served;

    private ReplayServer(final Path socket, final ServerSocketChannel channel, final long idleMillis,
        final long requestTimeoutMillis, final long writeTimeoutMillis, final Supplier<String> currentJars,
        final PrintStream log) throws IOException
    {
        this.socket = socket;
        this.channel = channel;
        this.idleMillis = idleMillis;
        this.requestTimeoutMillis = requestTimeoutMillis;
        this.writeTimeoutMillis = writeTimeoutMillis;
        this.log = log;
        this.currentJars = currentJars;
        this.build = currentJars.get();
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_ACCEPT);
    }

    /**
     * The socket: {@code $EDGEPLANE_REPLAY_SERVER} when set (null when it says {@code off}), else
     * {@code $XDG_RUNTIME_DIR/edgeplane/replay.sock}, else {@code /tmp/edgeplane-USER/replay.sock}.
     */
    static Path socketPath(final Map<String, String> environment)
    {
        final String named = environment.get(ENVIRONMENT);
        if (named != null && !named.isEmpty())
        {
            return named.equals("off") ? null : Path.of(named).toAbsolutePath();
        }
        final String runtime = environment.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isEmpty())
        {
            return Path.of(runtime, "edgeplane", "replay.sock");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "edgeplane-" + System.getProperty("user.name"),
            "replay.sock");
    }

    /** Why {@code directory} may not hold the socket (someone else could replace it), or null when it may. */
    static String unsafeDirectory(final Path directory)
    {
        try
        {
            final PosixFileAttributes attributes = Files.readAttributes(directory, PosixFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory())
            {
                return directory + " is not a directory";
            }
            if (!ownedByThisUser(directory, attributes))
            {
                return directory + " belongs to " + attributes.owner().getName() + ", not to this user";
            }
            final Set<PosixFilePermission> permissions = attributes.permissions();
            if (permissions.contains(PosixFilePermission.GROUP_WRITE) ||
                permissions.contains(PosixFilePermission.OTHERS_WRITE))
            {
                return directory + " is writable by others (" + PosixFilePermissions.toString(permissions) + ")";
            }
            return null;
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return directory + ": " + ex.getMessage();
        }
    }

    /**
     * Whether this process's user owns {@code directory}: compared by uid with the owner of {@code /proc/self}
     * (a user without a name, as in some containers, still owns what it made), by name where that cannot be read.
     */
    private static boolean ownedByThisUser(final Path directory, final PosixFileAttributes attributes)
    {
        try
        {
            return Files.getAttribute(directory, "unix:uid", LinkOption.NOFOLLOW_LINKS)
                .equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        }
        catch (final IOException | UnsupportedOperationException | IllegalArgumentException ex)
        {
            return attributes.owner().getName().equals(System.getProperty("user.name"));
        }
    }

    /**
     * Which Edgeplane this JVM runs: where the control and dataplane classes come from, with their times and sizes
     * (the launcher rebuilds the jars when a source changes). A server of another build sends {@link #STALE}.
     */
    static String build()
    {
        final StringBuilder build = new StringBuilder();
        for (final Class<?> type : new Class<?>[] {ReplayServer.class, Dataplane.class})
        {
            try
            {
                final Path path = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
                build.append(path).append('@').append(Files.getLastModifiedTime(path).toMillis()).append('+')
                    .append(Files.size(path)).append(';');
            }
            catch (final IOException | URISyntaxException | RuntimeException ex)
            {
                build.append(type.getName()).append("@?;");
            }
        }
        return build.toString();
    }

    /** Listen on {@code socket}; a dead server's socket is replaced, a live one's is an error. */
    static ReplayServer open(final Path socket, final long idleMillis, final PrintStream log)
    {
        return open(socket, idleMillis, REQUEST_TIMEOUT_MS, WRITE_TIMEOUT_MS, ReplayServer::build, log);
    }

    /**
     * With other timeouts for a client's request and for its reading of the answer, and another view of its own
     * jars (tests: another build, a rebuild).
     */
    static ReplayServer open(final Path socket, final long idleMillis, final long requestTimeoutMillis,
        final long writeTimeoutMillis, final Supplier<String> currentJars, final PrintStream log)
    {
        final Path directory = socket.toAbsolutePath().getParent();
        try
        {
            if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS))
            {
                Files.createDirectories(directory,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        }
        catch (final IOException ex)
        {
            throw new Main.UserError("cannot make " + directory + " for the replay server's socket (" +
                ex.getMessage() + ")");
        }
        final String unsafe = unsafeDirectory(directory);
        if (unsafe != null)
        {
            throw new Main.UserError("will not listen in a directory others can change: " + unsafe);
        }
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS))
        {
            try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket)))
            {
                throw new Main.UserError("a replay server already listens on " + socket);
            }
            catch (final IOException ex)
            {
                try
                {
                    Files.delete(socket); // a server that died without removing it: nobody listens
                }
                catch (final IOException deleteFailed)
                {
                    throw new Main.UserError("cannot remove the stale socket " + socket + " (" +
                        deleteFailed.getMessage() + ")");
                }
            }
        }
        ServerSocketChannel channel = null;
        try
        {
            channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            channel.bind(UnixDomainSocketAddress.of(socket));
            return new ReplayServer(socket, channel, idleMillis, requestTimeoutMillis, writeTimeoutMillis, currentJars,
                log);
        }
        catch (final IOException | RuntimeException ex)
        {
            if (channel != null)
            {
                try
                {
                    channel.close();
                }
                catch (final IOException ignored)
                {
                    // Failing already; the first reason is the one to tell.
                }
            }
            throw new Main.UserError("cannot listen on " + socket + " (" + ex.getMessage() + ")");
        }
    }

    Path socket()
    {
        return socket;
    }

    /** Replays served so far. */
    long served()
    {
        return served;
    }

    /** Serve clients, one at a time, until {@link #close}, the idle timeout, or a rebuild of its jars. */
    void serve() throws IOException
    {
        long idleSince = System.nanoTime();
        while (!closed)
        {
            final long idle = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - idleSince);
            if (idleMillis > 0 && idle >= idleMillis)
            {
                log.printf("replay server: idle for %d min, exiting%n", TimeUnit.MILLISECONDS.toMinutes(idle));
                return;
            }
            final SocketChannel client;
            try
            {
                selector.select(idleMillis > 0 ? Math.max(1, idleMillis - idle) : 0);
                selector.selectedKeys().clear();
                client = channel.accept();
            }
            catch (final IOException | ClosedSelectorException ex)
            {
                if (closed)
                {
                    return; // closed from another thread (a shutdown hook, a test)
                }
                throw ex;
            }
            if (client != null)
            {
                try (client)
                {
                    try
                    {
                        serveOne(client);
                    }
                    catch (final IOException | RuntimeException ex)
                    {
                        // A request that is not one, or a client gone mid-answer: that client only. Said before the
                        // connection closes, so that a client that sees it closed finds the reason in the log.
                        log.println("replay server: a client was dropped: " + ex.getMessage());
                    }
                }
                catch (final IOException closeFailed)
                {
                    log.println("replay server: closing a connection failed: " + closeFailed.getMessage());
                }
                idleSince = System.nanoTime();
                // The replay's tables (most of it DIR-24-8's 64 MiB tbl24) and its off-heap packet pool are
                // garbage now: give them back while nobody waits, not when the next replay needs the room.
                System.gc();
            }
        }
    }

    private void serveOne(final SocketChannel client) throws IOException
    {
        final long start = System.nanoTime();
        client.configureBlocking(false);
        try (Selector wait = Selector.open())
        {
            final SelectionKey key = client.register(wait, SelectionKey.OP_READ);
            final Request request = Request.read(client, wait, key, requestTimeoutMillis);
            final Frames frames = new Frames(client, wait, key, writeTimeoutMillis);
            if (!currentJars.get().equals(build))
            {
                // Rebuilt under it: the classes this JVM has not loaded yet would come from jars that are not the
                // ones it started with (a replay of another kind of config loads new ones). Send this client and
                // every later one away (they replay themselves) and end; a new server runs the new build.
                frames.send(STALE, new byte[0]);
                log.println("replay server: its jars were rebuilt since it started; exiting (start it again)");
                closed = true;
                return;
            }
            if (!request.build.equals(build))
            {
                frames.send(STALE, new byte[0]);
                log.println("replay server: a client of another build was sent away");
                return;
            }
            final PrintStream out = new PrintStream(frames.stream(OUT), false, StandardCharsets.UTF_8);
            final PrintStream err = new PrintStream(frames.stream(ERR), false, StandardCharsets.UTF_8);
            final GoneCheck gone = new GoneCheck(client, frames);
            final ReplayCommand command = new ReplayCommand(
                new ReplayCommand.Caller(Path.of(request.directory), out, err, request.terminal, gone::gone));
            final PrintWriter outWriter = new PrintWriter(out, true);
            final PrintWriter errWriter = new PrintWriter(err, true);
            int code;
            try
            {
                code = Main.execute(outWriter, errWriter, command, request.arguments);
            }
            catch (final RuntimeException | Error ex)
            {
                // A defect, not the user's: in a process of its own it would end that process with a stack trace.
                final StringWriter trace = new StringWriter();
                ex.printStackTrace(new PrintWriter(trace));
                errWriter.print("edgeplane: internal error in the replay server: " + trace);
                code = Main.EXIT_FAILURE;
            }
            outWriter.flush();
            errWriter.flush();
            out.flush();
            err.flush();
            served++;
            try
            {
                frames.send(EXIT, ByteBuffer.allocate(4).putInt(code).array());
            }
            catch (final IOException ex)
            {
                gone.gone = true;
            }
            log.printf("replay server: %s -> exit %d in %d ms%s%n", String.join(" ", request.arguments), code,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), gone.gone ? " (client gone)" : "");
        }
    }

    /** Wait until the channel registered with {@code wait} is ready, or fail with {@code late} at the deadline. */
    private static void await(final Selector wait, final long deadline, final String late) throws IOException
    {
        final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0)
        {
            throw new IOException(late);
        }
        wait.select(left);
        wait.selectedKeys().clear();
    }

    /** A client's request, read whole within a timeout. */
    private record Request(String build, String directory, boolean terminal, String[] arguments)
    {
        static Request read(final SocketChannel client, final Selector wait, final SelectionKey key,
            final long timeoutMillis) throws IOException
        {
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            final ByteBuffer head = ByteBuffer.allocate(8);
            fill(client, wait, key, head, deadline, timeoutMillis);
            final int magic = head.getInt(0);
            final int length = head.getInt(4);
            if (magic != MAGIC || length < 0 || length > MAX_REQUEST)
            {
                throw new IOException("not an edgeplane replay request");
            }
            final ByteBuffer body = ByteBuffer.allocate(length);
            fill(client, wait, key, body, deadline, timeoutMillis);
            final DataInputStream in = new DataInputStream(new ByteArrayInputStream(body.array()));
            final String build = in.readUTF();
            final String directory = in.readUTF();
            final boolean terminal = in.readBoolean();
            final int count = in.readInt();
            if (count < 0 || count > length)
            {
                throw new IOException("not an edgeplane replay request");
            }
            final String[] arguments = new String[count];
            for (int i = 0; i < count; i++)
            {
                arguments[i] = in.readUTF();
            }
            if (directory.indexOf('\0') >= 0 || !Path.of(directory).isAbsolute() || count == 0 ||
                !arguments[0].equals("replay"))
            {
                throw new IOException("not an edgeplane replay request");
            }
            return new Request(build, directory, terminal, arguments);
        }

        private static void fill(final SocketChannel client, final Selector wait, final SelectionKey key,
            final ByteBuffer buffer, final long deadline, final long timeoutMillis) throws IOException
        {
            key.interestOps(SelectionKey.OP_READ);
            while (buffer.hasRemaining())
            {
                if (client.read(buffer) < 0)
                {
                    throw new IOException("the client left before its request was complete");
                }
                if (buffer.hasRemaining())
                {
                    await(wait, deadline, "no complete request within " + timeoutMillis + " ms");
                }
            }
        }
    }

    /** The answer's frames, each written whole within a timeout or the client is taken as gone. */
    static final class Frames
    {
        private final SocketChannel client;
        private final Selector wait;
        private final SelectionKey key;
        private final long timeoutMillis;
        boolean broken;

        /** @param key {@code client}'s (non-blocking) registration with {@code wait} */
        Frames(final SocketChannel client, final Selector wait, final SelectionKey key, final long timeoutMillis)
        {
            this.client = client;
            this.wait = wait;
            this.key = key;
            this.timeoutMillis = timeoutMillis;
        }

        void send(final byte kind, final byte[] bytes) throws IOException
        {
            send(kind, bytes, 0, bytes.length);
        }

        void send(final byte kind, final byte[] bytes, final int offset, final int length) throws IOException
        {
            if (broken)
            {
                throw new IOException("the client is gone");
            }
            final ByteBuffer frame = ByteBuffer.allocate(5 + length).put(kind).putInt(length).put(bytes, offset,
                length).flip();
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            try
            {
                key.interestOps(SelectionKey.OP_WRITE);
                while (frame.hasRemaining())
                {
                    client.write(frame);
                    if (frame.hasRemaining())
                    {
                        await(wait, deadline, "the client read nothing for " + timeoutMillis + " ms");
                    }
                }
            }
            catch (final IOException ex)
            {
                broken = true;
                throw ex;
            }
        }

        /** Bytes written to it go to the client as frames of {@code kind} (nothing buffered). */
        OutputStream stream(final byte kind)
        {
            return new OutputStream()
            {
                @Override
                public void write(final int b) throws IOException
                {
                    send(kind, new byte[] {(byte)b});
                }

                @Override
                public void write(final byte[] bytes, final int offset, final int length) throws IOException
                {
                    if (length > 0)
                    {
                        send(kind, bytes, offset, length);
                    }
                }
            };
        }
    }

    /** Whether the client has gone: its end of the socket closed (it sends nothing after the request). */
    private static final class GoneCheck
    {
        private final SocketChannel client;
        private final Frames frames;
        private final ByteBuffer probe = ByteBuffer.allocate(1);
        private int calls;
        boolean gone;

        GoneCheck(final SocketChannel client, final Frames frames)
        {
            this.client = client;
            this.frames = frames;
        }

        boolean gone()
        {
            if (!gone && (frames.broken || ++calls % GONE_CHECK_VECTORS == 0 && closedByClient()))
            {
                gone = true;
            }
            return gone;
        }

        private boolean closedByClient()
        {
            try
            {
                probe.clear();
                return client.read(probe) != 0; // -1: closed; a byte: not a client of this protocol
            }
            catch (final IOException ex)
            {
                return true;
            }
        }
    }

    @Override
    public void close()
    {
        closed = true;
        selector.wakeup();
        try
        {
            channel.close();
            selector.close();
        }
        catch (final IOException ignored)
        {
            // Closing: nothing left to serve.
        }
        try
        {
            Files.deleteIfExists(socket);
        }
        catch (final IOException ignored)
        {
            // A socket nobody listens on is taken for stale by the next server and ignored by clients.
        }
    }

    /** The client side, run by {@code edgeplane replay} before anything else (no picocli, no config binding). */
    static final class Client
    {
        /** Not served: the caller replays itself. */
        static final int NOT_SERVED = -1;

        private Client()
        {
        }

        static int replay(final String[] arguments)
        {
            return replay(socketPath(System.getenv()), arguments, Path.of("").toAbsolutePath(),
                Terminal.stderr(), System.out, System.err);
        }

        /**
         * Hand {@code arguments} to the server at {@code socket}, relaying what it prints.
         *
         * @return the replay's exit code, or {@link #NOT_SERVED} when no server took it (none listens, it runs
         *     another build, its directory is not safe, it closed the connection before printing anything).
         */
        static int replay(final Path socket, final String[] arguments, final Path directory, final boolean terminal,
            final PrintStream out, final PrintStream err)
        {
            if (socket == null || !Files.exists(socket, LinkOption.NOFOLLOW_LINKS))
            {
                return NOT_SERVED;
            }
            final String unsafe = unsafeDirectory(socket.getParent());
            if (unsafe != null)
            {
                err.println("edgeplane: not using the replay server at " + socket + ": " + unsafe);
                return NOT_SERVED;
            }
            final SocketChannel channel;
            defaultSelectorProvider();
            try
            {
                channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            }
            catch (final IOException ex)
            {
                return NOT_SERVED; // a socket left by a server that is gone
            }
            boolean answered = false;
            try (channel)
            {
                channel.write(ByteBuffer.wrap(request(arguments, directory, terminal)));
                final DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
                while (true)
                {
                    final int kind = in.read();
                    if (kind < 0)
                    {
                        throw new EOFException("the connection ended");
                    }
                    final int length = in.readInt();
                    if (length < 0 || length > MAX_REQUEST)
                    {
                        throw new IOException("a frame of " + length + " bytes");
                    }
                    final byte[] bytes = in.readNBytes(length);
                    if (bytes.length < length)
                    {
                        throw new IOException("a frame cut short");
                    }
                    switch (kind)
                    {
                        case OUT ->
                        {
                            answered = true;
                            out.write(bytes);
                            out.flush();
                        }
                        case ERR ->
                        {
                            answered = true;
                            err.write(bytes);
                            err.flush();
                        }
                        case EXIT ->
                        {
                            return ByteBuffer.wrap(bytes).getInt();
                        }
                        case STALE ->
                        {
                            err.println("edgeplane: the replay server at " + socket + " runs another build " +
                                "(restart it); replaying here");
                            return NOT_SERVED;
                        }
                        default -> throw new IOException("a frame of unknown kind " + kind);
                    }
                }
            }
            catch (final IOException ex)
            {
                if (!answered)
                {
                    // Nothing was printed for this replay yet (a server stopped, killed, or ending after a rebuild
                    // with clients waiting): the replay can still be done here, from the start.
                    err.println("edgeplane: the replay server at " + socket + " closed the connection without an " +
                        "answer (" + ex.getMessage() + "); replaying here");
                    return NOT_SERVED;
                }
                err.println("edgeplane: error: the replay server at " + socket + " ended the connection before " +
                    "the replay's end (" + ex.getMessage() + ")");
                return Main.EXIT_FAILURE;
            }
        }

        /**
         * Open channels with the JDK's own selector provider without looking for others first: that search reads
         * every jar on the class path (47), about 40 ms of a client that exists to save time. Set only where the
         * class is there (Linux JDKs); elsewhere the JDK searches as always.
         */
        private static void defaultSelectorProvider()
        {
            final String property = "java.nio.channels.spi.SelectorProvider";
            final String linux = "sun.nio.ch.EPollSelectorProvider";
            if (System.getProperty(property) == null && ClassLoader.getSystemResource(
                linux.replace('.', '/') + ".class") != null)
            {
                System.setProperty(property, linux);
            }
        }

        static byte[] request(final String[] arguments, final Path directory, final boolean terminal)
            throws IOException
        {
            return request(arguments, directory.toString(), terminal);
        }

        static byte[] request(final String[] arguments, final String directory, final boolean terminal)
            throws IOException
        {
            final ByteArrayOutputStream body = new ByteArrayOutputStream();
            final DataOutputStream data = new DataOutputStream(body);
            data.writeUTF(build());
            data.writeUTF(directory);
            data.writeBoolean(terminal);
            data.writeInt(arguments.length);
            for (final String argument : arguments)
            {
                data.writeUTF(argument);
            }
            data.flush();
            final ByteArrayOutputStream whole = new ByteArrayOutputStream();
            final DataOutputStream framed = new DataOutputStream(whole);
            framed.writeInt(MAGIC);
            framed.writeInt(body.size());
            body.writeTo(framed);
            framed.flush();
            return whole.toByteArray();
        }
    }
}
