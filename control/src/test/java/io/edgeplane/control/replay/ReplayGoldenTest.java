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
 * The bundled cases (the demo, the VXLAN overlay, NAT and services with a trace per side) replayed and compared with the expected files in
 * {@code pcaps/<case>/expected}, byte for byte, twice (determinism). After an intended behaviour change, regenerate
 * with {@code mvn -pl control test -Dtest=ReplayGoldenTest -Dedgeplane.regenerate=true} and review the diff.
 */
class ReplayGoldenTest
{
    static final Path ROOT = Path.of(System.getProperty("edgeplane.root", "..")).toAbsolutePath().normalize();
    static final Path DEMO = ROOT.resolve("pcaps/demo");

    /**
     * A bundled case: its directory under pcaps/, its inputs ({@code FILE}, or {@code PORT=FILE} as the replay
     * command takes them), and the generator of those files (it writes them into a directory).
     */
    record Case(String directory, List<String> inputs, TraceWriter writer)
    {
        List<String> files()
        {
            return inputs.stream().map(in -> in.substring(in.indexOf('=') + 1)).toList();
        }

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
        return Stream.of(new Case("demo", List.of("trace.pcap"), dir -> DemoTrace.write(dir.resolve("trace.pcap"))),
            new Case("vxlan", List.of("trace.pcapng"), dir -> VxlanTrace.write(dir.resolve("trace.pcapng"))),
            new Case("nat", List.of("Port4=inside.pcap", "Port2=outside.pcap"), NatTrace::write),
            new Case("services", List.of("Port1=clients.pcap", "Port4=pods.pcap"), ServiceTrace::write));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldMatchTheBundledTraceGenerator(final Case bundled, @TempDir final Path tmp) throws Exception
    {
        bundled.writer().write(tmp);
        for (final String file : bundled.files())
        {
            final Path generated = tmp.resolve(file);
            if (Boolean.getBoolean("edgeplane.regenerate"))
            {
                Files.createDirectories(bundled.path());
                Files.copy(generated, bundled.path().resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            assertArrayEquals(Files.readAllBytes(bundled.path().resolve(file)), Files.readAllBytes(generated),
                "pcaps/" + bundled + "/" + file + " differs from its generator");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldReproduceExpectedOutputsByteForByte(final Case bundled, @TempDir final Path tmp) throws Exception
    {
        final DataplaneConfig config = ConfigLoader.load(bundled.path().resolve("config.json"));
        final List<Replay.Input> inputs = bundled.inputs().stream().map(in ->
        {
            final int eq = in.indexOf('=');
            return new Replay.Input(bundled.path().resolve(in.substring(eq + 1)),
                eq < 0 ? -1 : config.portIndex(in.substring(0, eq)));
        }).toList();
        final Path first = tmp.resolve("first");
        final Path second = tmp.resolve("second");
        Replay.run(config, inputs, 100, first, null);
        Replay.run(config, inputs, 100, second, null);
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
