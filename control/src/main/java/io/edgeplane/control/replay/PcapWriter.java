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
import java.util.Arrays;

/**
 * Writes a pcap file (Ethernet, microsecond timestamps, little-endian, snap length 262144: what libpcap's dumper
 * wrote before, byte for byte) through one large direct buffer written in blocks: no system call per frame.
 * <p>
 * A replay appends a vector's frames as the pipeline sends them ({@link #append}) and ends the vector
 * ({@link #endVector}): the vector's records are then put in timestamp order (stable: equal timestamps keep their
 * order) where they lie in the buffer, which they rarely need, and only ended vectors go to the file. A vector larger
 * than the buffer grows it, for good (a replay bounds a vector at 8 MiB of frames; in practice only drops.pcap
 * grows, with oversize jumbo frames, and it would grow at every vector if it shrank back).
 */
public final class PcapWriter implements AutoCloseable
{
    public static final int BUFFER_SIZE = 1 << 20;
    private static final int HEADER = 24;
    private static final int RECORD_HEADER = 16;

    private static final int VECTOR_RECORDS = 256;

    private final Path path;
    private final FileChannel channel;
    private ByteBuffer bytes = BufferUtil.allocateDirectAligned(BUFFER_SIZE, 64);
    private UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private int used;
    private long frames;
    // The open vector: where its records start in the buffer (-1: none open), each record's offset and timestamp,
    // and whether they came in timestamp order.
    private int vectorStart = -1;
    private int vectorRecords;
    private int[] recordOffsets = new int[VECTOR_RECORDS];
    private long[] recordTimestamps = new long[VECTOR_RECORDS];
    private int[] order = new int[VECTOR_RECORDS];
    private boolean vectorOrdered;
    private UnsafeBuffer scratch;

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

    /** Append one frame (copied from {@code source}) in the order given; the file is written as the buffer fills. */
    public void write(final DirectBuffer source, final int offset, final int length, final long timestampNanos)
        throws TraceFileException
    {
        append(source, offset, length, timestampNanos);
        endVector();
    }

    /**
     * Append one frame (copied from {@code source}) to the open vector, opening one if none is: it reaches the
     * file, in timestamp order within the vector, after {@link #endVector}.
     */
    public void append(final DirectBuffer source, final int offset, final int length, final long timestampNanos)
        throws TraceFileException
    {
        final int record = RECORD_HEADER + length;
        if (vectorStart < 0)
        {
            vectorStart = used;
            vectorOrdered = true;
        }
        if (used + record > buffer.capacity())
        {
            makeRoom(record);
        }
        final int n = vectorRecords;
        if (n == recordOffsets.length)
        {
            recordOffsets = Arrays.copyOf(recordOffsets, n * 2);
            recordTimestamps = Arrays.copyOf(recordTimestamps, n * 2);
            order = Arrays.copyOf(order, n * 2);
        }
        if (n > 0 && timestampNanos < recordTimestamps[n - 1])
        {
            vectorOrdered = false;
        }
        recordOffsets[n] = used;
        recordTimestamps[n] = timestampNanos;
        vectorRecords = n + 1;
        final long seconds = Math.floorDiv(timestampNanos, 1_000_000_000L);
        final long micros = Math.floorMod(timestampNanos, 1_000_000_000L) / 1000;
        buffer.putInt(used, (int)seconds, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(used + 4, (int)micros, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(used + 8, length, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(used + 12, length, ByteOrder.LITTLE_ENDIAN);
        buffer.putBytes(used + RECORD_HEADER, source, offset, length);
        used += record;
        frames++;
    }

    /** End the open vector: its records, stably ordered by timestamp, may now be written to the file. */
    public void endVector()
    {
        if (vectorStart < 0)
        {
            return;
        }
        if (!vectorOrdered)
        {
            reorder();
        }
        vectorStart = -1;
        vectorRecords = 0;
    }

    /**
     * The next record does not fit: write the ended vectors before the open one to the file and move the open one to
     * the front; if it still does not fit, the open vector is larger than the buffer, which grows.
     */
    private void makeRoom(final int record) throws TraceFileException
    {
        if (vectorStart > 0)
        {
            // Nothing changes before the write succeeds: after a failure the buffer still holds what it held.
            writeOut(vectorStart);
            final int pending = used - vectorStart;
            bytes.limit(used).position(vectorStart);
            bytes.compact();
            bytes.clear();
            for (int i = 0; i < vectorRecords; i++)
            {
                recordOffsets[i] -= vectorStart;
            }
            vectorStart = 0;
            used = pending;
        }
        if (used + record > buffer.capacity())
        {
            final int capacity = Integer.highestOneBit(used + record - 1) << 1;
            final ByteBuffer larger = BufferUtil.allocateDirectAligned(capacity, 64);
            final UnsafeBuffer view = new UnsafeBuffer(larger);
            view.putBytes(0, buffer, 0, used);
            bytes = larger;
            buffer = view;
        }
    }

    /** Put the open vector's records in timestamp order (stable) where they lie. */
    private void reorder()
    {
        final int n = vectorRecords;
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        // Insertion sort: stable, and linear on the nearly sorted vectors a replay produces.
        for (int i = 1; i < n; i++)
        {
            final int item = order[i];
            final long key = recordTimestamps[item];
            int j = i - 1;
            while (j >= 0 && recordTimestamps[order[j]] > key)
            {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = item;
        }
        final int start = vectorStart;
        final int total = used - start;
        if (scratch == null || scratch.capacity() < buffer.capacity())
        {
            scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(buffer.capacity(), 64));
        }
        int at = 0;
        for (int k = 0; k < n; k++)
        {
            final int i = order[k];
            final int end = i + 1 < n ? recordOffsets[i + 1] : used;
            scratch.putBytes(at, buffer, recordOffsets[i], end - recordOffsets[i]);
            at += end - recordOffsets[i];
        }
        buffer.putBytes(start, scratch, 0, total);
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

    /** End the open vector, if any, and write what is buffered. */
    public void flush() throws TraceFileException
    {
        endVector();
        writeOut(used);
        used = 0;
    }

    /** Write the buffer's first {@code end} bytes to the file. */
    private void writeOut(final int end) throws TraceFileException
    {
        bytes.limit(end).position(0);
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
        finally
        {
            bytes.clear();
        }
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
