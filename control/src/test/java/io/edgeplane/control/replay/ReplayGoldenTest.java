package io.edgeplane.control.replay;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bundled demo replayed and compared with the expected files in {@code pcaps/demo/expected}, byte for byte,
 * twice (determinism). After an intended behaviour change, regenerate with
 * {@code mvn -pl control test -Dtest=ReplayGoldenTest -Dedgeplane.regenerate=true} and review the diff.
 */
class ReplayGoldenTest
{
    static final Path ROOT = Path.of(System.getProperty("edgeplane.root", "..")).toAbsolutePath().normalize();
    static final Path DEMO = ROOT.resolve("pcaps/demo");

    @Test
    void shouldMatchTheBundledTraceGenerator(@TempDir final Path tmp) throws Exception
    {
        final Path generated = tmp.resolve("trace.pcap");
        DemoTrace.write(generated);
        if (Boolean.getBoolean("edgeplane.regenerate"))
        {
            Files.copy(generated, DEMO.resolve("trace.pcap"), StandardCopyOption.REPLACE_EXISTING);
        }
        assertArrayEquals(Files.readAllBytes(DEMO.resolve("trace.pcap")), Files.readAllBytes(generated),
            "pcaps/demo/trace.pcap differs from DemoTrace.frames()");
    }

    @Test
    void shouldReproduceExpectedOutputsByteForByte(@TempDir final Path tmp) throws Exception
    {
        final DataplaneConfig config = ConfigLoader.load(DEMO.resolve("config.json"));
        final Path trace = DEMO.resolve("trace.pcap");
        final Path first = tmp.resolve("first");
        final Path second = tmp.resolve("second");
        Replay.run(config, trace, -1, 100, first, null);
        Replay.run(config, trace, -1, 100, second, null);
        final Path expected = DEMO.resolve("expected");
        if (Boolean.getBoolean("edgeplane.regenerate"))
        {
            Files.createDirectories(expected);
            try (Stream<Path> old = Files.list(expected))
            {
                for (final Path path : old.toList())
                {
                    Files.delete(path);
                }
            }
            for (final String name : names(first))
            {
                Files.copy(first.resolve(name), expected.resolve(name));
            }
        }
        assertEquals(names(expected), names(first), "set of output files");
        for (final String name : names(expected))
        {
            assertArrayEquals(Files.readAllBytes(expected.resolve(name)), Files.readAllBytes(first.resolve(name)),
                name + " differs from pcaps/demo/expected/" + name);
            assertArrayEquals(Files.readAllBytes(first.resolve(name)), Files.readAllBytes(second.resolve(name)),
                name + " differs between two runs");
        }
    }

    static List<String> names(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
