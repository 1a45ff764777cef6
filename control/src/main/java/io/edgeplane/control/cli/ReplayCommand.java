package io.edgeplane.control.cli;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.control.replay.Replay;
import io.edgeplane.control.replay.ReplayResult;
import io.edgeplane.control.replay.TraceFileException;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RouteFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

@Command(name = "replay", description = "Replay a pcap trace through a configuration.")
public final class ReplayCommand implements Callable<Integer>
{
    @Option(names = "--config", required = true, description = "JSON config file")
    Path config;

    @Option(names = "--in", required = true, description = "input trace (pcap or pcapng, Ethernet), streamed; " +
        "repeat as PORT=FILE to replay several traces, each entering on its port, merged by timestamp")
    List<String> in;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(names = "--in-port", description = "port every frame arrives on (default: a pcapng interface's " +
        "name when it names a port, else the first port)")
    String inPort;

    @Option(names = "--trace", defaultValue = "0", description = "trace the first N packets into trace.txt")
    int trace;

    @Option(names = "--routes", description = "route file ('prefix/len nexthop [metric]' lines) added to the config")
    Path routes;

    /** Who this replay runs for: a replay server's client, or null for this process's own user. */
    private final Caller caller;

    /** For picocli: a replay run by this process, for its own user at its own terminal. */
    public ReplayCommand()
    {
        this(null);
    }

    /** A replay run for {@code caller} (a {@link ReplayServer}'s client). */
    ReplayCommand(final Caller caller)
    {
        this.caller = caller;
    }

    /**
     * Who a replay runs for: the working directory that relative paths are resolved against (null: this
     * process's own), where the summary and the progress line go, whether that stderr is a terminal, and whether
     * the caller has gone (a served replay is then abandoned; its outputs are removed as after any failure).
     */
    record Caller(Path directory, PrintStream out, PrintStream err, boolean terminal, BooleanSupplier gone)
    {
        /** This process's own user: its working directory, standard output and error, as they are now. */
        static Caller thisProcess()
        {
            return new Caller(null, System.out, System.err, Terminal.stderr(), () -> false);
        }

        boolean served()
        {
            return directory != null;
        }

        Path resolve(final Path path)
        {
            return directory == null || path == null ? path : directory.resolve(path);
        }
    }

    @Override
    public Integer call()
    {
        final Caller caller = this.caller != null ? this.caller : Caller.thisProcess();
        final ReplayResult result = replay(caller, caller.resolve(config), in, caller.resolve(out), inPort, trace,
            caller.resolve(routes));
        // The files as the caller named them: a served replay writes to absolute paths.
        final Path given = out;
        final Path resolved = caller.resolve(out);
        printSummary(caller.out(), result, false, file -> given.resolve(resolved.relativize(file)));
        return 0;
    }

    static ReplayResult replay(final Path config, final Path in, final Path out, final String inPort, final int trace,
        final Path routeFile)
    {
        return replay(Caller.thisProcess(), config, List.of(in.toString()), out, inPort, trace, routeFile);
    }

    static ReplayResult replay(final Caller caller, final Path config, final List<String> in, final Path out,
        final String inPort, final int trace, final Path routeFile)
    {
        if (trace < 0)
        {
            throw new Main.UserError("--trace must be >= 0");
        }
        final DataplaneConfig dataplaneConfig = loadConfig(config, routeFile);
        final int port = inPort == null ? -1 : dataplaneConfig.portIndex(inPort);
        if (inPort != null && port < 0)
        {
            throw new Main.UserError("--in-port: unknown port " + inPort);
        }
        try
        {
            final PrintStream err = caller.err();
            final BooleanSupplier gone = caller.gone();
            // On stderr when it is a terminal, whatever stdout is (the summary may go to a file).
            // A served replay always asks whether its caller is still there.
            final Replay.Progress progress = !caller.served() && !caller.terminal() ? null :
                new Replay.Progress()
                {
                    @Override
                    public void update(final long packets, final long nanos)
                    {
                        if (caller.terminal())
                        {
                            err.printf("\r%,d packets  %.1f s  %.2f Mpps ", packets, nanos / 1e9,
                                packets * 1e3 / nanos);
                        }
                    }

                    @Override
                    public boolean cancelled()
                    {
                        return gone.getAsBoolean();
                    }
                };
            final ReplayResult result = Replay.run(dataplaneConfig, inputs(caller, dataplaneConfig, in, port), trace,
                out, progress);
            if (caller.terminal() && result.packets() >= Replay.PROGRESS_FRAMES)
            {
                err.println();
            }
            return result;
        }
        catch (final TraceFileException ex)
        {
            throw new Main.UserError(ex.getMessage());
        }
        catch (final ConfigException ex)
        {
            throw new Main.UserError(config + ": " + ex.getMessage());
        }
    }

    /** {@code FILE} (entering on {@code --in-port}) or {@code PORT=FILE} per input; each port at most once. */
    static List<Replay.Input> inputs(final Caller caller, final DataplaneConfig config, final List<String> in,
        final int inPort)
    {
        final List<Replay.Input> inputs = new ArrayList<>();
        final Set<Integer> ports = new HashSet<>();
        for (final String value : in)
        {
            final int eq = value.indexOf('=');
            final int port = eq > 0 ? config.portIndex(value.substring(0, eq)) : -1;
            if (port < 0 && eq > 0 && !Files.exists(caller.resolve(Path.of(value))))
            {
                throw new Main.UserError("--in " + value + ": unknown port " + value.substring(0, eq));
            }
            if (port >= 0 && !ports.add(port))
            {
                throw new Main.UserError("--in " + value + ": a second input for " + value.substring(0, eq));
            }
            final String file = port >= 0 ? value.substring(eq + 1) : value;
            if (file.isEmpty())
            {
                throw new Main.UserError("--in " + value + ": no file given (PORT=FILE or FILE)");
            }
            inputs.add(new Replay.Input(caller.resolve(Path.of(file)), port >= 0 ? port : inPort));
        }
        return inputs;
    }

    /** The config file, plus the routes of a route file when one is given; errors become one line. */
    static DataplaneConfig loadConfig(final Path config, final Path routeFile)
    {
        try
        {
            final DataplaneConfig loaded = ConfigLoader.load(config);
            if (routeFile == null)
            {
                return loaded;
            }
            return loaded.withRoutes(RouteFile.read(routeFile, new PortTable(loaded.ports())).routes());
        }
        catch (final ConfigException | RouteException ex)
        {
            throw new Main.UserError(ex.getMessage());
        }
    }

    static void printSummary(final PrintStream out, final ReplayResult result, final boolean withTrace)
    {
        printSummary(out, result, withTrace, file -> file);
    }

    /** @param named how the caller names a written file (relative to its directory, as it named the output). */
    static void printSummary(final PrintStream out, final ReplayResult result, final boolean withTrace,
        final UnaryOperator<Path> named)
    {
        out.printf("replayed %d packets in %.1f ms%s%n", result.packets(), result.elapsedNanos() / 1e6,
            result.packets() < 100_000 ? "" : String.format(" (%.2f Mpps)", result.packets() * 1e3 /
            result.elapsedNanos()));
        out.println("packets out per port:");
        result.counters().ports.forEach((name, counters) ->
            out.printf("  %-10s rx %6d  tx %6d%n", name, counters.get("rx-packets"), counters.get("tx-packets")));
        if (result.counters().drops.isEmpty())
        {
            out.println("drops: none");
        }
        else
        {
            out.println("drops by reason:");
            result.counters().drops.forEach((reason, count) -> out.printf("  %-24s %6d%n", reason, count));
        }
        if (withTrace && !result.trace().isEmpty())
        {
            out.println("trace:");
            out.print(result.trace().indent(2));
        }
        out.println("files:");
        for (final Map.Entry<String, Path> file : result.files().entrySet())
        {
            out.printf("  %-10s %s%n", file.getKey(), named.apply(file.getValue()));
        }
    }
}
