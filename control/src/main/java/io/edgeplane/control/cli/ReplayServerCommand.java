package io.edgeplane.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

@Command(name = "replay-server", description = "Keep a JVM warm for replays: 'edgeplane replay' hands its work " +
    "to this server when it finds its socket (no JVM start, no JIT warm-up), and replays itself otherwise.")
public final class ReplayServerCommand implements Callable<Integer>
{
    @Option(names = "--socket", description = "Unix socket to listen on (default: $" + ReplayServer.ENVIRONMENT +
        ", else $XDG_RUNTIME_DIR/edgeplane/replay.sock, else /tmp/edgeplane-$USER/replay.sock)")
    Path socket;

    @Option(names = "--idle-timeout", defaultValue = "180", description = "exit after this many minutes without " +
        "a replay (default 180; 0: never)")
    long idleMinutes;

    @Override
    public Integer call() throws IOException
    {
        if (idleMinutes < 0)
        {
            throw new Main.UserError("--idle-timeout must be >= 0 (minutes)");
        }
        final Path path = socket != null ? socket.toAbsolutePath() : ReplayServer.socketPath(System.getenv());
        if (path == null)
        {
            throw new Main.UserError(ReplayServer.ENVIRONMENT + " is 'off': give the socket with --socket");
        }
        final ReplayServer server = ReplayServer.open(path, TimeUnit.MINUTES.toMillis(idleMinutes), System.err);
        // Ctrl-C or SIGTERM: remove the socket, so that clients replay themselves again.
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "replay-server-close"));
        System.out.println("replay server listening on " + server.socket() + " (pid " + ProcessHandle.current().pid() +
            "); 'edgeplane replay' uses it" + (socket != null ? " with " + ReplayServer.ENVIRONMENT + "=" +
            server.socket() : ""));
        System.out.flush();
        try (server)
        {
            server.serve();
        }
        return 0;
    }
}
