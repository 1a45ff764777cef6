package io.edgeplane.control.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code edgeplane} command. Every failure the user can cause (bad config, bad trace, bad flags) ends as one
 * line on stderr and a non-zero exit code, never a stack trace.
 */
@Command(name = "edgeplane", mixinStandardHelpOptions = true, version = "edgeplane 0.1.0",
    description = "Userspace packet dataplane for an edge gateway.",
    subcommands = {DemoCommand.class, ReplayCommand.class, BenchCommand.class, FibCommand.class,
        GatewayCommand.class, ControlCommands.Route.class, ControlCommands.Port.class, ControlCommands.Neighbor.class,
        ControlCommands.Nat.class, ControlCommands.Service.class, ControlCommands.Kubernetes.class,
        ControlCommands.Counters.class, ControlCommands.Runtime.class, ControlCommands.Trace.class})
public final class Main implements Runnable
{
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_FAILURE = 1;

    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }

    public static int execute(final String... args)
    {
        return execute(new java.io.PrintWriter(System.err, true), args);
    }

    /** Run with errors going to {@code err}: tests read the one-line messages from there. */
    public static int execute(final java.io.PrintWriter err, final String... args)
    {
        final CommandLine commandLine = new CommandLine(new Main());
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

    @Override
    public void run()
    {
        CommandLine.usage(this, System.out);
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
