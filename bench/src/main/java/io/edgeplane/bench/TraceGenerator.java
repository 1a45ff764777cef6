package io.edgeplane.bench;

import io.edgeplane.control.replay.PcapWriter;
import io.edgeplane.control.replay.TraceFileException;

import java.nio.file.Path;

/**
 * Writes a benchmark trace: {@code FRAMES} UDP frames of {@code SIZE} bytes from the demo client (10.1.0.10 on
 * Port1) to 256 hosts in 192.168.20.0/24 (routed out of Port2 by the demo config), 1 µs apart.
 * Usage: {@code TraceGenerator OUT FRAMES SIZE}.
 */
public final class TraceGenerator
{
    private TraceGenerator()
    {
    }

    public static void main(final String[] args) throws TraceFileException
    {
        write(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]));
    }

    /** Write {@code frames} frames of {@code size} bytes to {@code out}. */
    public static void write(final Path out, final int frames, final int size) throws TraceFileException
    {
        final byte[][] distinct = new byte[256][];
        for (int i = 0; i < distinct.length; i++)
        {
            distinct[i] = BenchFrames.udp(0x0A01000A, 0xC0A81400 | i, 1024 + i, size);
        }
        try (PcapWriter writer = new PcapWriter(out))
        {
            for (int i = 0; i < frames; i++)
            {
                writer.write(distinct[i & 255], 1_700_000_000_000_000_000L + i * 1000L);
            }
        }
    }
}
