package io.edgeplane.control.replay;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replay's outputs against a naive reference: each vector's frames, cut early at {@code 8 MiB} of frame bytes,
 * stably sorted by timestamp ({@link List#sort}) and written per port as pcap records built here from the format.
 * Random vectors with many equal and out-of-order timestamps, vectors larger than a writer's buffer, and vectors
 * past the 8 MiB cut; every file must match byte for byte, and only ports that got frames have one. And a write
 * failure in the middle of a vector leaves the writer able to fail again cleanly, as the replay's cleanup needs.
 */
class ReplayOutputsTest
{
    private static final int VECTOR_BYTES = 8 << 20;

    @TempDir
    Path tmp;

    private record Frame(int port, byte[] data, long nanos)
    {
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void filesMatchAStableSortOfEachVector(final long seed) throws Exception
    {
        final DataplaneConfig config = ConfigLoader.load(ReplayGoldenTest.DEMO.resolve("config.json"));
        final int ports = config.ports().size();
        final Random random = new Random(seed);
        final ReplayOutputs outputs = new ReplayOutputs(config, tmp);
        final Map<Integer, ByteArrayOutputStream> expected = new HashMap<>();
        long base = 1_700_000_000_000_000_000L + seed * 1_000_000_000L;
        for (int vector = 0; vector < 60; vector++)
        {
            final int shape = random.nextInt(10);
            // Mostly small vectors; some larger than a writer's 1 MiB buffer for one port; one past the 8 MiB cut.
            final int count = vector == 30 ? 4_600 : shape == 0 ? 800 : 1 + random.nextInt(300);
            final List<Frame> frames = new ArrayList<>();
            for (int i = 0; i < count; i++)
            {
                final int port = shape == 0 || vector == 30 ? 1 : random.nextInt(ports + 1) - 1;
                final int length = shape == 0 || vector == 30 ? 1_800 + random.nextInt(120) : 42 + random.nextInt(1500);
                final byte[] data = new byte[length];
                random.nextBytes(data);
                // Few distinct times per vector: many ties, often out of order; microsecond and sub-microsecond parts.
                final long nanos = base + random.nextInt(6) * 1_000L + (random.nextBoolean() ? random.nextInt(999) : 0);
                frames.add(new Frame(port, data, nanos));
                outputs.stage(port, new UnsafeBuffer(data), 0, length, nanos);
            }
            outputs.endVector();
            reference(frames, expected);
            base += 1_000_000L;
        }
        outputs.close();

        for (int port = -1; port < ports; port++)
        {
            final Path file = tmp.resolve((port < 0 ? "drops" : config.ports().get(port).name()) + ".pcap");
            final ByteArrayOutputStream want = expected.get(port);
            assertEquals(want != null, Files.exists(file), file + " exists only if it got frames");
            if (want != null)
            {
                assertArrayEquals(want.toByteArray(), Files.readAllBytes(file), file.toString());
            }
        }
        assertTrue(expected.size() > 2, "the random vectors reached several files");
    }

    @Test
    void aFullDiskInTheMiddleOfAVectorEndsInTheWriteErrorOnly() throws Exception
    {
        Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/full")), "needs /dev/full (writes fail: no space)");
        final PcapWriter writer = new PcapWriter(Path.of("/dev/full"));
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[1500]);
        writer.append(frame, 0, 1500, 5_000_000L);
        writer.endVector();
        // A vector out of timestamp order that outgrows the buffer: writing out the vector before it fails.
        final TraceFileException failure = assertThrows(TraceFileException.class, () ->
        {
            for (int i = 0; i < 1_000; i++)
            {
                writer.append(frame, 0, 1500, 1_000_000L - i);
            }
        });
        assertTrue(failure.getMessage().contains("No space left on device"), failure.getMessage());
        // What a replay does next (ReplayOutputs.discard): end the vector and close; a write error again, nothing else.
        writer.endVector();
        final TraceFileException onClose = assertThrows(TraceFileException.class, writer::close);
        assertTrue(onClose.getMessage().contains("No space left on device"), onClose.getMessage());
    }

    /** The reference: vectors cut at 8 MiB of frame bytes, each part stably sorted by time, then per port. */
    private static void reference(final List<Frame> frames, final Map<Integer, ByteArrayOutputStream> files)
    {
        final List<Frame> part = new ArrayList<>();
        int bytes = 0;
        for (final Frame frame : frames)
        {
            if (bytes + frame.data().length > VECTOR_BYTES)
            {
                emit(part, files);
                part.clear();
                bytes = 0;
            }
            part.add(frame);
            bytes += frame.data().length;
        }
        emit(part, files);
    }

    private static void emit(final List<Frame> part, final Map<Integer, ByteArrayOutputStream> files)
    {
        final List<Frame> sorted = new ArrayList<>(part);
        sorted.sort(Comparator.comparingLong(Frame::nanos)); // List.sort is stable
        for (final Frame frame : sorted)
        {
            final ByteArrayOutputStream out = files.computeIfAbsent(frame.port(), port -> header());
            final ByteBuffer record = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            record.putInt((int)(frame.nanos() / 1_000_000_000L)).putInt((int)(frame.nanos() % 1_000_000_000L / 1000))
                .putInt(frame.data().length).putInt(frame.data().length);
            out.writeBytes(record.array());
            out.writeBytes(frame.data());
        }
    }

    /** libpcap's file header: microsecond magic, version 2.4, snap length 262144, Ethernet. */
    private static ByteArrayOutputStream header()
    {
        final ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0xA1B2C3D4).putShort((short)2).putShort((short)4).putInt(0).putInt(0).putInt(262_144).putInt(1);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header.array());
        return out;
    }
}
