package io.edgeplane.control.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether output reaches a person at a terminal: progress lines are for them, not for files and pipes. */
final class Terminal
{
    private Terminal()
    {
    }

    /**
     * True when standard error is a terminal. On Linux {@code /proc/self/fd/2} names its tty; elsewhere the JVM's
     * console (which says whether standard input and output are, a weaker guess) stands in.
     */
    static boolean stderr()
    {
        try
        {
            final String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        }
        catch (final IOException | UnsupportedOperationException | SecurityException ex)
        {
            return System.console() != null;
        }
    }
}
