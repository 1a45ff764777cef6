package io.edgeplane.control.replay;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a pcap file (Ethernet, microsecond timestamps, little-endian, snap length 262144: what libpcap's dumper
 * wrote before, byte for byte) through one large direct buffer written in blocks: no system call per frame.
 */
public final class PcapWriter implements AutoCloseable
{
    public static final int BUFFER_SIZE = 1 << 20;
    private static final int HEADER = 24;
    private static final int RECORD_HEADER = 16;

    private final Path path;
    private final FileChannel channel;
    private final ByteBuffer bytes = BufferUtil.allocateDirectAligned(BUFFER_SIZE, 64);
    private final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private int used;
    private long frames;

    public PcapWriter(final Path path) throws TraceFileException
    {
        this.path = path;
        try
        {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        }
        catch (final IOException ex)
        {
            throw new TraceFileException(path + ": cannot write (" + ex.getMessage() + ")");
        }
        buffer.putInt(0, 0xA1B2C3D4, ByteOrder.LITTLE_ENDIAN);
        buffer.putShort(4, (short)2, ByteOrder.LITTLE_ENDIAN);
        buffer.putShort(6, (short)4, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(8, 0, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(12, 0, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(16, PcapReader.MAX_CAPLEN, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(20, 1, ByteOrder.LITTLE_ENDIAN);
        used = HEADER;
    }

    public Path path()
    {
        return path;
    }

    /** Append one frame (copied from {@code source}); the file is written whenever the buffer fills. */
    public void write(final DirectBuffer source, final int offset, final int length, final long timestampNanos)
        throws TraceFileException
    {
        if (used + RECORD_HEADER + length > BUFFER_SIZE)
        {
            flush();
        }
        final long seconds = Math.floorDiv(timestampNanos, 1_000_000_000L);
        final long micros = Math.floorMod(timestampNanos, 1_000_000_000L) / 1000;
        buffer.putInt(used, (int)seconds, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(used + 4, (int)micros, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(used + 8, length, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(used + 12, length, ByteOrder.LITTLE_ENDIAN);
        buffer.putBytes(used + RECORD_HEADER, source, offset, length);
        used += RECORD_HEADER + length;
        frames++;
    }

    /** Append one frame from a byte array. */
    public void write(final byte[] frame, final long timestampNanos) throws TraceFileException
    {
        write(new UnsafeBuffer(frame), 0, frame.length, timestampNanos);
    }

    public long frames()
    {
        return frames;
    }

    /** Write what is buffered. */
    public void flush() throws TraceFileException
    {
        bytes.limit(used).position(0);
        try
        {
            while (bytes.hasRemaining())
            {
                channel.write(bytes);
            }
        }
        catch (final IOException ex)
        {
            throw new TraceFileException(path + ": cannot write (" + ex.getMessage() + ")");
        }
        used = 0;
    }

    /** Flush and close; the file is complete on return. */
    @Override
    public void close() throws TraceFileException
    {
        try
        {
            flush();
        }
        finally
        {
            try
            {
                channel.close();
            }
            catch (final IOException ex)
            {
                throw new TraceFileException(path + ": cannot write (" + ex.getMessage() + ")");
            }
        }
    }
}
