package io.edgeplane.control.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.List;

/**
 * The {@code edgeplane} command. Every failure the user can cause (bad config, bad trace, bad flags) ends as one
 * line on stderr and a non-zero exit code, never a stack trace.
 */
@Command(name = "edgeplane", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
    version = "edgeplane 0.1.0",
    description = "Userspace packet dataplane for an edge gateway.")
public final class Main implements Runnable
{
    /** The subcommands, in the order help lists them. */
    private static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, ReplayCommand.class,
        ReplayServerCommand.class, BenchCommand.class, FibCommand.class, GatewayCommand.class,
        ControlCommands.Route.class, ControlCommands.Port.class, ControlCommands.Neighbor.class,
        ControlCommands.Nat.class, ControlCommands.Service.class, ControlCommands.Kubernetes.class,
        ControlCommands.Counters.class, ControlCommands.Runtime.class, ControlCommands.Trace.class);

    @Spec
    CommandSpec spec;

    public static final int EXIT_USAGE = 2;
    public static final int EXIT_FAILURE = 1;

    public static void main(final String[] args)
    {
        // A replay goes to a running replay server when there is one: a warm JVM, no start and no JIT warm-up.
        if (args.length > 0 && args[0].equals("replay"))
        {
            final int served = ReplayServer.Client.replay(args);
            if (served != ReplayServer.Client.NOT_SERVED)
            {
                System.exit(served);
            }
        }
        System.exit(execute(args));
    }

    public static int execute(final String... args)
    {
        return execute(new java.io.PrintWriter(System.err, true), args);
    }

    /** Run with errors going to {@code err}: tests read the one-line messages from there. */
    public static int execute(final java.io.PrintWriter err, final String... args)
    {
        return execute(null, err, null, args);
    }

    /**
     * Run with help going to {@code out} (null: standard output) and errors to {@code err}; a replay the arguments
     * name runs as {@code replay} (a replay server's, for its client), or as a new {@link ReplayCommand} when null.
     */
    static int execute(final java.io.PrintWriter out, final java.io.PrintWriter err, final ReplayCommand replay,
        final String... args)
    {
        // picocli looks for Groovy's Closure class when it first creates a command, unless told not to: a class that
        // is on no jar made the JVM open every jar of the class path (47 of them) to search it, about 30 ms of each
        // start (README, "Warm-up"). Edgeplane has no Groovy commands.
        System.setProperty("picocli.disable.closures", "true");
        final CommandLine commandLine = new CommandLine(new Main());
        // Only the subcommand being run is built: picocli introspects every command by reflection, and the whole
        // tree cost about half a second of each start (a replay of a small trace, any API verb). No name, help or
        // an unknown name get them all.
        final Class<?> named = args.length > 0 ? subcommand(args[0]) : null;
        for (final Class<?> subcommand : named != null ? List.of(named) : SUBCOMMANDS)
        {
            if (subcommand == ReplayCommand.class && replay != null)
            {
                commandLine.addSubcommand(replay);
            }
            else
            {
                commandLine.addSubcommand(subcommand);
            }
        }
        if (out != null)
        {
            commandLine.setOut(out);
        }
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((ex, cmd, parsed) ->
        {
            if (ex instanceof UserError)
            {
                cmd.getErr().println("edgeplane: error: " + ex.getMessage());
                return EXIT_FAILURE;
            }
            throw ex;
        });
        return commandLine.execute(args);
    }

    private static Class<?> subcommand(final String name)
    {
        for (final Class<?> subcommand : SUBCOMMANDS)
        {
            final Command command = subcommand.getAnnotation(Command.class);
            if (command.name().equals(name) || List.of(command.aliases()).contains(name))
            {
                return subcommand;
            }
        }
        return null;
    }

    @Override
    public void run()
    {
        spec.commandLine().usage(System.out);
    }

    /** An error the user can fix; printed as one line. */
    public static final class UserError extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        public UserError(final String message)
        {
            super(message, null, false, false);
        }
    }
}
