package io.edgeplane.control.replay;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bundled cases (the demo, and the VXLAN overlay) replayed and compared with the expected files in
 * {@code pcaps/<case>/expected}, byte for byte, twice (determinism). After an intended behaviour change, regenerate
 * with {@code mvn -pl control test -Dtest=ReplayGoldenTest -Dedgeplane.regenerate=true} and review the diff.
 */
class ReplayGoldenTest
{
    static final Path ROOT = Path.of(System.getProperty("edgeplane.root", "..")).toAbsolutePath().normalize();
    static final Path DEMO = ROOT.resolve("pcaps/demo");

    /** A bundled case: its directory under pcaps/, its trace file name, and the generator of that trace. */
    record Case(String directory, String trace, TraceWriter writer)
    {
        Path path()
        {
            return ROOT.resolve("pcaps").resolve(directory);
        }

        @Override
        public String toString()
        {
            return directory;
        }
    }

    @FunctionalInterface
    interface TraceWriter
    {
        void write(Path path) throws Exception;
    }

    static Stream<Case> cases()
    {
        return Stream.of(new Case("demo", "trace.pcap", DemoTrace::write),
            new Case("vxlan", "trace.pcapng", VxlanTrace::write));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldMatchTheBundledTraceGenerator(final Case bundled, @TempDir final Path tmp) throws Exception
    {
        final Path generated = tmp.resolve(bundled.trace());
        bundled.writer().write(generated);
        if (Boolean.getBoolean("edgeplane.regenerate"))
        {
            Files.createDirectories(bundled.path());
            Files.copy(generated, bundled.path().resolve(bundled.trace()), StandardCopyOption.REPLACE_EXISTING);
        }
        assertArrayEquals(Files.readAllBytes(bundled.path().resolve(bundled.trace())), Files.readAllBytes(generated),
            "pcaps/" + bundled + "/" + bundled.trace() + " differs from its generator");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldReproduceExpectedOutputsByteForByte(final Case bundled, @TempDir final Path tmp) throws Exception
    {
        final DataplaneConfig config = ConfigLoader.load(bundled.path().resolve("config.json"));
        final Path trace = bundled.path().resolve(bundled.trace());
        final Path first = tmp.resolve("first");
        final Path second = tmp.resolve("second");
        Replay.run(config, trace, -1, 100, first, null);
        Replay.run(config, trace, -1, 100, second, null);
        final Path expected = bundled.path().resolve("expected");
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
                name + " differs from pcaps/" + bundled + "/expected/" + name);
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
