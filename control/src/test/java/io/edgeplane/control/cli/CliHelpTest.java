package io.edgeplane.control.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command and verb answers {@code --help} with its usage (the help options are inherited down the tree), and
 * the top-level help lists every command although a run builds only the one it runs.
 */
class CliHelpTest
{
    private static String run(final int expectedExit, final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final PrintStream stdout = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(expectedExit, Main.execute(args), String.join(" ", args));
        }
        finally
        {
            System.setOut(stdout);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyCommandAndVerbHasHelp()
    {
        final List<String> commands = List.of("demo", "replay", "bench", "fib", "gateway", "route", "port",
            "neighbor", "nat", "service", "kubernetes", "counters", "runtime", "trace");
        final String top = run(0, "--help");
        for (final String command : commands)
        {
            assertTrue(top.contains("\n  " + command + " "), command + " missing from:\n" + top);
            assertTrue(run(0, command, "--help").startsWith("Usage: edgeplane " + command), command);
        }
        assertTrue(run(0, "route", "add", "--help").startsWith("Usage: edgeplane route add"));
        assertTrue(run(0, "service", "backends", "--help").startsWith("Usage: edgeplane service backends"));
        assertEquals(top, run(0), "no command: the same usage");
    }
}
