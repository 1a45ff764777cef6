package io.edgeplane.control.replay;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replay with two workers (driven from one thread, so the run is deterministic): the same inputs give the same
 * bytes every time, and what leaves each port is what one worker sends, frame for frame, in another order where
 * workers interleave. The oracle for the second is the one-worker replay of the bundled traces (which the goldens
 * pin). Two things legitimately differ and are left out: the IPv4 identification of packets the box makes (each
 * worker counts its own; masked with the header checksum), and with NAT the mapped ports (each worker maps from its
 * slice of the range, and the bundled NAT trace's replies assume the inside port was preserved), so the NAT case is
 * checked for determinism only.
 */
class ReplayWorkersTest
{
    static Stream<ReplayGoldenTest.Case> cases()
    {
        return ReplayGoldenTest.cases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void twoWorkersAreDeterministicAndSendWhatOneSends(final ReplayGoldenTest.Case bundled, @TempDir final Path tmp)
        throws Exception
    {
        final DataplaneConfig config = ConfigLoader.load(bundled.path().resolve("config.json"));
        final List<Replay.Input> inputs = bundled.inputs().stream().map(in ->
        {
            final int eq = in.indexOf('=');
            return new Replay.Input(bundled.path().resolve(in.substring(eq + 1)),
                eq < 0 ? -1 : config.portIndex(in.substring(0, eq)));
        }).toList();
        final ReplayResult one = Replay.run(config, inputs, 0, tmp.resolve("one"), null);
        final ReplayResult first = Replay.run(config.withWorkers(2), inputs, 0, tmp.resolve("first"), null);
        Replay.run(config.withWorkers(2), inputs, 0, tmp.resolve("second"), null);
        for (final var port : config.ports())
        {
            final String name = port.name() + ".pcap";
            if (!Files.exists(tmp.resolve("one").resolve(name)))
            {
                continue; // a tunnel port: its frames leave through its underlay's file
            }
            assertArrayEquals(Files.readAllBytes(tmp.resolve("first").resolve(name)),
                Files.readAllBytes(tmp.resolve("second").resolve(name)), name + ": two-worker replay is deterministic");
            final List<String> byOne = frames(tmp.resolve("one").resolve(name));
            final List<String> byTwo = frames(tmp.resolve("first").resolve(name));
            if (!nat(config))
            {
                Collections.sort(byOne);
                Collections.sort(byTwo);
                assertEquals(byOne, byTwo, name + ": the same frames with two workers");
            }
        }
        assertEquals(one.packets(), first.packets());
        if (!nat(config))
        {
            assertEquals(one.counters().drops, first.counters().drops, "the same drops, summed over workers");
        }
        assertTrue(first.counters().ports.values().stream().mapToLong(p -> p.get("rx-packets")).sum() > 0);
    }

    private static boolean nat(final DataplaneConfig config)
    {
        return config.nat() != null && config.nat().enabled();
    }

    /** Each frame's bytes (hex), in file order, the outer IPv4 identification and header checksum masked. */
    private static List<String> frames(final Path pcap) throws Exception
    {
        final List<String> frames = new ArrayList<>();
        if (!Files.exists(pcap))
        {
            return frames;
        }
        try (PcapReader reader = PcapReader.open(pcap))
        {
            final PcapReader.Batch batch = new PcapReader.Batch(256);
            while (reader.readBatch(batch) > 0)
            {
                for (int i = 0; i < batch.count; i++)
                {
                    final byte[] frame = new byte[batch.lengths[i]];
                    reader.buffer().getBytes(batch.offsets[i], frame);
                    if (frame.length >= 34 && frame[12] == 0x08 && frame[13] == 0x00)
                    {
                        frame[18] = frame[19] = frame[24] = frame[25] = 0;
                    }
                    frames.add(HexFormat.of().formatHex(frame));
                }
            }
        }
        return frames;
    }
}
