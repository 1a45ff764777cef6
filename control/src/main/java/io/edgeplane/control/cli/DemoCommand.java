package io.edgeplane.control.cli;

import io.edgeplane.control.replay.ReplayResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "demo", description = "Replay the bundled trace (pcaps/demo) through the bundled config.")
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--out", description = "output directory (default: out/demo)")
    Path out;

    @Option(names = "--trace", defaultValue = "6", description = "packets to trace (default 6)")
    int trace;

    @Override
    public Integer call()
    {
        final Path home = Path.of(System.getProperty("edgeplane.home", "."));
        final Path demo = home.resolve("pcaps").resolve("demo");
        if (!Files.isDirectory(demo))
        {
            throw new Main.UserError(demo + ": bundled demo not found (run from the repository root)");
        }
        final Path outDir = out != null ? out : home.resolve("out").resolve("demo");
        System.out.println("config: " + demo.resolve("config.json"));
        System.out.println("trace:  " + demo.resolve("trace.pcap"));
        final ReplayResult result = ReplayCommand.replay(
            demo.resolve("config.json"), demo.resolve("trace.pcap"), outDir, null, trace, null);
        ReplayCommand.printSummary(System.out, result, true);
        return 0;
    }
}
