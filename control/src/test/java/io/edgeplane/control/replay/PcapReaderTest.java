package io.edgeplane.control.replay;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.port.PreloadedTrace;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streaming reader against independent oracles: libpcap (through pcap4j) reading the same file, and
 * Wireshark's editcap converting it to pcapng and nanosecond pcap; big-endian files made by swapping every header
 * field. Frames and timestamps must agree exactly, across batch boundaries of a large trace.
 */
class PcapReaderTest
{
    @TempDir
    Path tmp;
    private Path trace;

    /** Frames and nanosecond timestamps as libpcap reads them. */
    private record Frames(List<byte[]> frames, List<Long> timestamps)
    {
    }

    @BeforeEach
    void setUp() throws Exception
    {
        // 3000 frames of random sizes (60..1514, some 9000) with irregular timestamps: several reader batches.
        trace = tmp.resolve("random.pcap");
        final Random random = new Random(42);
        try (PcapWriter writer = new PcapWriter(trace))
        {
            long nanos = 1_700_000_000_000_000_000L;
            for (int i = 0; i < 3000; i++)
            {
                final byte[] frame = new byte[i % 500 == 7 ? 9000 : 60 + random.nextInt(1455)];
                random.nextBytes(frame);
                writer.write(frame, nanos);
                nanos += random.nextInt(2_000_000) * 1000L;
            }
        }
    }

    private static Frames libpcap(final Path path) throws Exception
    {
        final List<byte[]> frames = new ArrayList<>();
        final List<Long> timestamps = new ArrayList<>();
        final PcapHandle handle = Pcaps.openOffline(path.toString(), PcapHandle.TimestampPrecision.NANO);
        try
        {
            while (true)
            {
                try
                {
                    frames.add(handle.getNextRawPacketEx());
                    final java.sql.Timestamp ts = handle.getTimestamp();
                    timestamps.add(Math.floorDiv(ts.getTime(), 1000L) * 1_000_000_000L + ts.getNanos());
                }
                catch (final EOFException end)
                {
                    break;
                }
            }
        }
        finally
        {
            handle.close();
        }
        return new Frames(frames, timestamps);
    }

    private static void assertSame(final Frames expected, final PreloadedTrace actual)
    {
        assertEquals(expected.frames().size(), actual.count());
        for (int i = 0; i < actual.count(); i++)
        {
            assertArrayEquals(expected.frames().get(i), actual.copyFrame(i), "frame " + i);
            assertEquals(expected.timestamps().get(i).longValue(), actual.timestampNanos(i), "timestamp " + i);
        }
    }

    private static void run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
    }

    private static boolean haveEditcap()
    {
        return Files.isExecutable(Path.of("/usr/bin/editcap"));
    }

    @Test
    void shouldReadWhatLibpcapReads() throws Exception
    {
        assertSame(libpcap(trace), Traces.preload(trace));
    }

    @ParameterizedTest
    @ValueSource(strings = {"pcapng", "nsecpcap"})
    void shouldReadEditcapConversionsLikeTheOriginal(final String format) throws Exception
    {
        Assumptions.assumeTrue(haveEditcap(), "editcap (Wireshark) not installed; CI installs it with tshark");
        final Path converted = tmp.resolve("converted." + format);
        run("editcap", "-F", format, trace.toString(), converted.toString());
        assertSame(libpcap(trace), Traces.preload(converted));
    }

    @Test
    void shouldReadABigEndianPcap() throws Exception
    {
        final byte[] bytes = Files.readAllBytes(trace);
        final ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer out = ByteBuffer.allocate(bytes.length).order(ByteOrder.BIG_ENDIAN);
        out.putInt(in.getInt(0)).putShort(in.getShort(4)).putShort(in.getShort(6)).putInt(in.getInt(8))
            .putInt(in.getInt(12)).putInt(in.getInt(16)).putInt(in.getInt(20));
        int at = 24;
        while (at < bytes.length)
        {
            final int caplen = in.getInt(at + 8);
            out.putInt(in.getInt(at)).putInt(in.getInt(at + 4)).putInt(caplen).putInt(in.getInt(at + 12));
            out.put(bytes, at + 16, caplen);
            at += 16 + caplen;
        }
        final Path bigEndian = tmp.resolve("big.pcap");
        Files.write(bigEndian, out.array());
        assertSame(libpcap(trace), Traces.preload(bigEndian));
    }

    @Test
    void shouldMapPcapngInterfaceNamesToPorts() throws Exception
    {
        Assumptions.assumeTrue(haveEditcap(), "mergecap (Wireshark) not installed; CI installs it with tshark");
        // Two captures merged into one pcapng with two interfaces, named by text2pcap: Port3 gets frames of
        // 60..69 bytes, Port2 frames of 100..109 bytes.
        final Path a = tmp.resolve("a.pcapng");
        final Path b = tmp.resolve("b.pcapng");
        run("text2pcap", "-q", "-F", "pcapng", "-N", "Port3", hexDump(tmp.resolve("a.txt"), 60).toString(),
            a.toString());
        run("text2pcap", "-q", "-F", "pcapng", "-N", "Port2", hexDump(tmp.resolve("b.txt"), 100).toString(),
            b.toString());
        final Path merged = tmp.resolve("merged.pcapng");
        run("mergecap", "-F", "pcapng", "-w", merged.toString(), a.toString(), b.toString());
        final DataplaneConfig config = ConfigLoader.load(ReplayGoldenTest.DEMO.resolve("config.json"));
        final PreloadedTrace frames = Traces.preload(merged, config, -1);
        assertEquals(20, frames.count());
        for (int i = 0; i < frames.count(); i++)
        {
            final int port = frames.length(i) < 100 ? 2 : 1;
            assertEquals(port, frames.port(i), "frame " + i + " (" + frames.length(i) + " bytes)");
        }
        final PreloadedTrace forced = Traces.preload(merged, config, 0);
        for (int i = 0; i < forced.count(); i++)
        {
            assertEquals(0, forced.port(i), "--in-port wins");
        }
    }

    /** text2pcap input: ten frames of {@code base}..{@code base + 9} bytes. */
    private static Path hexDump(final Path path, final int base) throws Exception
    {
        final StringBuilder text = new StringBuilder();
        for (int i = 0; i < 10; i++)
        {
            for (int offset = 0; offset < base + i; offset += 16)
            {
                text.append(String.format("%04x ", offset));
                for (int j = offset; j < Math.min(offset + 16, base + i); j++)
                {
                    text.append(String.format(" %02x", j & 0xFF));
                }
                text.append('\n');
            }
            text.append('\n');
        }
        Files.writeString(path, text);
        return path;
    }

    @Test
    void shouldRefuseBrokenPcapngBlocksWithTheirOffset() throws Exception
    {
        Assumptions.assumeTrue(haveEditcap(), "editcap (Wireshark) not installed; CI installs it with tshark");
        final Path ng = tmp.resolve("t.pcapng");
        run("editcap", "-F", "pcapng", trace.toString(), ng.toString());
        final byte[] bytes = Files.readAllBytes(ng);
        final ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        // Walk to the 100th enhanced packet block and break its trailing length.
        int at = 0;
        int packets = 0;
        while (true)
        {
            final int type = data.getInt(at);
            final int length = data.getInt(at + 4);
            if (type == 6 && ++packets == 100)
            {
                data.putInt(at + length - 4, length + 4);
                break;
            }
            at += length;
        }
        final Path broken = tmp.resolve("broken.pcapng");
        Files.write(broken, bytes);
        final TraceFileException ex = assertThrows(TraceFileException.class, () -> Traces.preload(broken));
        assertTrue(ex.getMessage().contains("broken pcapng block at byte " + at), ex.getMessage());
        assertEquals(1, ex.getMessage().lines().count());
        final Path cut = tmp.resolve("cut.pcapng");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(ng), (int)Files.size(ng) - 10));
        assertTrue(assertThrows(TraceFileException.class, () -> Traces.preload(cut)).getMessage()
            .contains("broken pcapng block"));
    }

    @Test
    void shouldPreloadUpToItsBoundAndSayWhenATraceIsLarger() throws Exception
    {
        final Path trace = tmp.resolve("bound.pcap");
        final int frames = 1000;
        try (PcapWriter writer = new PcapWriter(trace))
        {
            for (int i = 0; i < frames; i++)
            {
                final byte[] frame = new byte[100];
                frame[0] = (byte)i;
                writer.write(frame, i * 1000L);
            }
        }
        final PreloadedTrace exact = Traces.preload(trace, null, -1, frames * 100);
        assertEquals(frames, exact.count());
        assertEquals(frames * 100L, exact.bytes());
        assertEquals((byte)(frames - 1), exact.copyFrame(frames - 1)[0]);
        final TraceFileException over = assertThrows(TraceFileException.class,
            () -> Traces.preload(trace, null, -1, frames * 100 - 1));
        assertEquals(trace + ": more than 99999 bytes of frames to preload (a benchmark loops its trace in memory; " +
            "give it a shorter one, e.g. editcap -c 1000000)", over.getMessage());
    }

    /** Read a whole file with the streaming reader; returns the frames read. */
    private static int stream(final Path path) throws TraceFileException
    {
        try (PcapReader reader = PcapReader.open(path))
        {
            final PcapReader.Batch batch = new PcapReader.Batch(64);
            int frames = 0;
            int read;
            while ((read = reader.readBatch(batch)) > 0)
            {
                for (int i = 0; i < read; i++)
                {
                    assertTrue(batch.lengths[i] >= 0 && batch.offsets[i] >= 0 &&
                        batch.offsets[i] + batch.lengths[i] <= reader.buffer().capacity(), "frame inside the buffer");
                }
                frames += read;
            }
            return frames;
        }
    }

    @Test
    void shouldEndEveryMutatedFileInFramesOrOneClearError() throws Exception
    {
        // 2,000 mutations of a small pcap and (with editcap) its pcapng form: bytes overwritten (mostly in
        // headers, where the lengths are), bits flipped, files cut or extended. Both the streaming reader and
        // the preloading one must end in frames or a one-line TraceFileException, never another exception.
        final Path small = tmp.resolve("small.pcap");
        final Random random = new Random(4787);
        try (PcapWriter writer = new PcapWriter(small))
        {
            for (int i = 0; i < 30; i++)
            {
                final byte[] frame = new byte[60 + random.nextInt(200)];
                random.nextBytes(frame);
                writer.write(frame, 1_000_000_000L * i);
            }
        }
        final List<byte[]> seeds = new ArrayList<>();
        seeds.add(Files.readAllBytes(small));
        if (haveEditcap())
        {
            final Path ng = tmp.resolve("small.pcapng");
            run("editcap", "-F", "pcapng", small.toString(), ng.toString());
            seeds.add(Files.readAllBytes(ng));
        }
        else
        {
            System.out.println("pcapng mutations skipped: editcap (Wireshark) not installed; CI installs it");
        }
        final Path mutated = tmp.resolve("mutated");
        int refused = 0;
        for (int round = 0; round < 2000; round++)
        {
            byte[] bytes = seeds.get(round % seeds.size()).clone();
            switch (random.nextInt(4))
            {
                case 0 -> bytes[random.nextInt(Math.min(bytes.length, 120))] = (byte)random.nextInt(256);
                case 1 -> bytes[random.nextInt(bytes.length)] ^= (byte)(1 << random.nextInt(8));
                case 2 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
                default ->
                {
                    // A length-sized field anywhere set to something large or negative.
                    final int at = random.nextInt(bytes.length - 4) & ~3;
                    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(at,
                        random.nextBoolean() ? random.nextInt() : 0x7FFF_FFF0 - random.nextInt(16));
                }
            }
            Files.write(mutated, bytes);
            for (int reader = 0; reader < 2; reader++)
            {
                try
                {
                    if (reader == 0)
                    {
                        stream(mutated);
                    }
                    else
                    {
                        Traces.preload(mutated);
                    }
                }
                catch (final TraceFileException ex)
                {
                    refused++;
                    assertEquals(1, ex.getMessage().lines().count(), ex.getMessage());
                }
            }
        }
        assertTrue(refused > 100, "the mutations broke files: " + refused + " refusals");
    }

    @Test
    void shouldReadAFileLargerThanItsBufferLikeLibpcap() throws Exception
    {
        // The random trace (about 2.3 MB) through the smallest buffer: batches end when the buffer is full and
        // the rest moves to its front (compaction), in pcap and (with editcap) pcapng form.
        final List<Path> files = new ArrayList<>(List.of(trace));
        if (haveEditcap())
        {
            final Path ng = tmp.resolve("random.pcapng");
            run("editcap", "-F", "pcapng", trace.toString(), ng.toString());
            files.add(ng);
        }
        final Frames expected = libpcap(trace);
        assertTrue(Files.size(trace) > 2L * PcapReader.MIN_BUFFER_SIZE, "the trace spans several buffers");
        for (final Path file : files)
        {
            final List<byte[]> frames = new ArrayList<>();
            final List<Long> timestamps = new ArrayList<>();
            try (PcapReader reader = PcapReader.open(file, PcapReader.MIN_BUFFER_SIZE))
            {
                final PcapReader.Batch batch = new PcapReader.Batch(256);
                while (reader.readBatch(batch) > 0)
                {
                    for (int i = 0; i < batch.count; i++)
                    {
                        final byte[] frame = new byte[batch.lengths[i]];
                        reader.buffer().getBytes(batch.offsets[i], frame);
                        frames.add(frame);
                        timestamps.add(batch.timestamps[i]);
                    }
                }
            }
            assertEquals(expected.frames().size(), frames.size(), file.toString());
            for (int i = 0; i < frames.size(); i++)
            {
                assertArrayEquals(expected.frames().get(i), frames.get(i), file + " frame " + i);
                assertEquals(expected.timestamps().get(i), timestamps.get(i), file + " timestamp " + i);
            }
        }
        assertEquals(PcapReader.MIN_BUFFER_SIZE, PcapReader.bufferSize(10_000), "a small file, the smallest buffer");
        final int midSized = (PcapReader.MIN_BUFFER_SIZE + PcapReader.BUFFER_SIZE) / 2;
        assertEquals(midSized, PcapReader.bufferSize(midSized - 100), "a mid-sized file, its own size");
        assertEquals(PcapReader.BUFFER_SIZE, PcapReader.bufferSize(10L << 30), "a large file, the largest buffer");
    }
}
