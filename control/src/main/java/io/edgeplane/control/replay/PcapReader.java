package io.edgeplane.control.replay;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams a capture file in batches, with Java's own I/O and no call per frame: pcap (micro- or nanosecond
 * timestamps, either byte order) and pcapng (sections in either byte order, several interfaces with their names and
 * timestamp resolutions; enhanced and simple packet blocks; other blocks skipped). The file is read a
 * {@link #READ_CHUNK} at a time, as the frames are parsed, into one direct buffer; {@link #readBatch} hands out up to a vector of frames as offsets into that buffer, all
 * valid together until the next call (so a replay can still write a dropped frame exactly as it arrived). Memory is
 * bounded by the buffer whatever the file's size. Ethernet link type only; every defect is a
 * {@link TraceFileException} naming the record or block.
 */
public final class PcapReader implements AutoCloseable
{
    /**
     * The largest read buffer: a whole vector of full-size Ethernet frames several times over. Larger only costs
     * memory: the buffer is filled a {@link #READ_CHUNK} at a time, as the frames are parsed.
     */
    public static final int BUFFER_SIZE = 2 << 20;
    /**
     * The most one read asks of the file: read just ahead of the parser, so the bytes the kernel copied in are
     * likely still in the core's cache when they are copied into pool slots (reading as far as the buffer reached
     * put megabytes between the two copies). The buffer's size then only bounds one batch.
     */
    static final int READ_CHUNK = 128 << 10;
    /**
     * The smallest read buffer: room for the largest block the reader accepts (a pcapng block of
     * {@link #MAX_CAPLEN} + 4096 bytes) several times over, also when a file grows while it is read.
     */
    public static final int MIN_BUFFER_SIZE = 1 << 20;
    /** libpcap's limit for one record's captured length. */
    public static final int MAX_CAPLEN = 262_144;

    private static final int PCAP_MICRO = 0xA1B2C3D4;
    private static final int PCAP_NANO = 0xA1B23C4D;
    private static final int PCAPNG_SECTION = 0x0A0D0D0A;
    private static final int PCAPNG_BYTE_ORDER = 0x1A2B3C4D;
    private static final int PCAPNG_IDB = 1;
    private static final int PCAPNG_SPB = 3;
    private static final int PCAPNG_EPB = 6;
    private static final int LINKTYPE_ETHERNET = 1;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final Path path;
    private final FileChannel channel;
    private final ByteBuffer bytes;
    private final UnsafeBuffer buffer;
    private final boolean pcapng;
    private ByteOrder order;
    private boolean nanosecond;
    private int position;
    private int limit;
    private boolean eof;
    private long consumed;
    private long records;
    private final List<String> interfaceNames = new ArrayList<>();
    private final List<long[]> interfaceResolution = new ArrayList<>();

    /** One batch of frames: offsets into {@link #buffer()}, lengths, timestamps and pcapng interface ids. */
    public static final class Batch
    {
        public final int[] offsets;
        public final int[] lengths;
        public final long[] timestamps;
        public final int[] interfaces;
        public int count;

        public Batch(final int capacity)
        {
            offsets = new int[capacity];
            lengths = new int[capacity];
            timestamps = new long[capacity];
            interfaces = new int[capacity];
        }
    }

    private PcapReader(final Path path, final FileChannel channel, final int bufferSize) throws TraceFileException
    {
        this.path = path;
        this.channel = channel;
        this.bytes = BufferUtil.allocateDirectAligned(bufferSize, 64);
        this.buffer = new UnsafeBuffer(bytes);
        fill(24);
        if (limit < 4)
        {
            throw error("empty file, not a pcap/pcapng file");
        }
        final int magicLe = buffer.getInt(0, ByteOrder.LITTLE_ENDIAN);
        final int magicBe = buffer.getInt(0, ByteOrder.BIG_ENDIAN);
        if (magicLe == PCAPNG_SECTION)
        {
            pcapng = true;
            return;
        }
        pcapng = false;
        if (magicLe == PCAP_MICRO || magicLe == PCAP_NANO)
        {
            order = ByteOrder.LITTLE_ENDIAN;
        }
        else if (magicBe == PCAP_MICRO || magicBe == PCAP_NANO)
        {
            order = ByteOrder.BIG_ENDIAN;
        }
        else
        {
            throw error("not a readable pcap/pcapng file (unknown magic 0x" + Integer.toHexString(magicBe) + ")");
        }
        nanosecond = buffer.getInt(0, order) == PCAP_NANO;
        if (limit < 24)
        {
            throw error("not a readable pcap/pcapng file (header cut short)");
        }
        final int linkType = buffer.getInt(20, order) & 0x0FFF_FFFF;
        if (linkType != LINKTYPE_ETHERNET)
        {
            throw error("unsupported link type " + linkType + " (only Ethernet, DLT_EN10MB, is supported)");
        }
        position = 24;
    }

    public static PcapReader open(final Path path) throws TraceFileException
    {
        return open(path, -1);
    }

    /**
     * The read buffer for a file of {@code fileSize} bytes: the whole file when it is smaller than
     * {@link #BUFFER_SIZE} (a small replay allocates what it reads, not the largest buffer), never below
     * {@link #MIN_BUFFER_SIZE}.
     */
    static int bufferSize(final long fileSize)
    {
        return (int)Math.min(BUFFER_SIZE, Math.max(MIN_BUFFER_SIZE, (fileSize + 4095) & ~4095L));
    }

    /** @param bufferSize the read buffer's size, or -1 to size it by the file ({@link #bufferSize(long)}). */
    static PcapReader open(final Path path, final int bufferSize) throws TraceFileException
    {
        if (Files.isDirectory(path))
        {
            throw new TraceFileException(path + ": is a directory, not a capture file");
        }
        final FileChannel channel;
        try
        {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        }
        catch (final NoSuchFileException ex)
        {
            throw new TraceFileException(path + ": no such file");
        }
        catch (final IOException ex)
        {
            throw new TraceFileException(path + ": cannot read (" + ex.getMessage() + ")");
        }
        try
        {
            int size = bufferSize;
            if (size < 0)
            {
                try
                {
                    size = bufferSize(channel.size());
                }
                catch (final IOException ex)
                {
                    size = BUFFER_SIZE;
                }
            }
            return new PcapReader(path, channel, Math.max(MIN_BUFFER_SIZE, size));
        }
        catch (final TraceFileException ex)
        {
            closeQuietly(channel);
            throw ex;
        }
    }

    private static void closeQuietly(final FileChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // Read-only: nothing to lose.
        }
    }

    /** The file's size in bytes (0 when it has none: a pipe, a device). */
    public long fileSize()
    {
        try
        {
            return channel.size();
        }
        catch (final IOException ex)
        {
            return 0;
        }
    }

    /** The buffer the batch offsets point into. */
    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** pcapng interface names by id (empty for pcap, and for unnamed interfaces). */
    public List<String> interfaceNames()
    {
        return interfaceNames;
    }

    /**
     * Read up to {@code batch}'s capacity of frames. Frames of the previous batch are no longer valid.
     *
     * @return the number of frames, 0 at the end of the file.
     */
    public int readBatch(final Batch batch) throws TraceFileException
    {
        compact();
        batch.count = 0;
        final int capacity = batch.offsets.length;
        while (batch.count < capacity)
        {
            final int before = batch.count;
            final boolean more = pcapng ? nextBlock(batch) : nextRecord(batch);
            if (!more)
            {
                break;
            }
            if (batch.count == before && position == limit && eof)
            {
                break;
            }
        }
        return batch.count;
    }

    /**
     * Move what is not consumed to the front of the buffer (frames of the last batch are released), once at least
     * half of it was consumed, or when it is full: each byte is moved at most about once.
     */
    private void compact()
    {
        if (position > bytes.capacity() / 2 || position > 0 && limit == bytes.capacity())
        {
            final int remaining = limit - position;
            buffer.putBytes(0, buffer, position, remaining);
            consumed += position;
            position = 0;
            limit = remaining;
        }
    }

    /**
     * Make {@code n} bytes from {@link #position} available, reading more of the file.
     *
     * @return false when the file ends first, or when the buffer is full of this batch's frames.
     */
    private boolean fill(final int n) throws TraceFileException
    {
        while (limit - position < n && !eof)
        {
            if (limit == bytes.capacity())
            {
                return false;
            }
            final long want = (long)limit + Math.max(READ_CHUNK, n - (limit - position));
            bytes.limit((int)Math.min(bytes.capacity(), want)).position(limit);
            try
            {
                final int read = channel.read(bytes);
                if (read < 0)
                {
                    eof = true;
                }
                else
                {
                    limit += read;
                }
            }
            catch (final IOException ex)
            {
                throw error("read failed (" + ex.getMessage() + ")");
            }
        }
        return limit - position >= n;
    }

    /** True when the buffer ran out of room (not the file out of bytes): the batch ends here. */
    private boolean bufferFull(final int n)
    {
        return limit - position < n && !eof;
    }

    private boolean nextRecord(final Batch batch) throws TraceFileException
    {
        if (!fill(16))
        {
            if (bufferFull(16))
            {
                return false;
            }
            if (position == limit)
            {
                return false;
            }
            throw error("bad record " + (records + 1) + " (truncated: a record header cut short)");
        }
        final int caplen = buffer.getInt(position + 8, order);
        final int origlen = buffer.getInt(position + 12, order);
        if (caplen < 0 || caplen > MAX_CAPLEN)
        {
            throw error("bad record " + (records + 1) + " (captured length " + Integer.toUnsignedString(caplen) +
                " larger than " + MAX_CAPLEN + ")");
        }
        if (origlen < 0)
        {
            throw error("bad record " + (records + 1) + " (original length " + Integer.toUnsignedString(origlen) +
                " impossible)");
        }
        if (!fill(16 + caplen))
        {
            if (bufferFull(16 + caplen) && batch.count > 0)
            {
                return false;
            }
            throw error("bad record " + (records + 1) + " (truncated: tried to read " + caplen +
                " captured bytes, only got " + Math.max(0, limit - position - 16) + ")");
        }
        final long seconds = buffer.getInt(position, order) & 0xFFFF_FFFFL;
        final long fraction = buffer.getInt(position + 4, order) & 0xFFFF_FFFFL;
        final int i = batch.count++;
        batch.offsets[i] = position + 16;
        batch.lengths[i] = caplen;
        batch.timestamps[i] = seconds * 1_000_000_000L + (nanosecond ? fraction : fraction * 1000L);
        batch.interfaces[i] = 0;
        position += 16 + caplen;
        records++;
        return true;
    }

    private boolean nextBlock(final Batch batch) throws TraceFileException
    {
        if (!fill(12))
        {
            if (bufferFull(12) || position == limit)
            {
                return false;
            }
            throw brokenBlock("a block header cut short");
        }
        final int type = order == null ? buffer.getInt(position, ByteOrder.LITTLE_ENDIAN) :
            buffer.getInt(position, order);
        if (type == PCAPNG_SECTION)
        {
            final int magic = buffer.getInt(position + 8, ByteOrder.LITTLE_ENDIAN);
            order = magic == PCAPNG_BYTE_ORDER ? ByteOrder.LITTLE_ENDIAN :
                Integer.reverseBytes(magic) == PCAPNG_BYTE_ORDER ? ByteOrder.BIG_ENDIAN : null;
            if (order == null)
            {
                throw brokenBlock("a section header with an unknown byte-order magic");
            }
            interfaceNames.clear();
            interfaceResolution.clear();
        }
        final int length = buffer.getInt(position + 4, order);
        if (length < 12 || (length & 3) != 0 || length > MAX_CAPLEN + 4096)
        {
            throw brokenBlock("a block length of " + Integer.toUnsignedString(length));
        }
        if (!fill(length))
        {
            if (bufferFull(length) && batch.count > 0)
            {
                return false;
            }
            throw brokenBlock("a block cut short (" + length + " bytes announced)");
        }
        if (buffer.getInt(position + length - 4, order) != length)
        {
            throw brokenBlock("a block whose trailing length differs from its leading length");
        }
        final int body = position + 8;
        final int bodyLength = length - 12;
        switch (type)
        {
            case PCAPNG_IDB -> readInterface(body, bodyLength);
            case PCAPNG_EPB ->
            {
                final int id = buffer.getInt(body, order);
                final int caplen = buffer.getInt(body + 12, order);
                if (bodyLength < 20 || caplen < 0 || caplen > bodyLength - 20)
                {
                    throw brokenBlock("a packet block whose captured length " + caplen + " exceeds it");
                }
                if (id < 0 || id >= interfaceResolution.size())
                {
                    throw brokenBlock("a packet on interface " + id + ", which no interface block describes");
                }
                final long units = (buffer.getInt(body + 4, order) & 0xFFFF_FFFFL) << 32 |
                    (buffer.getInt(body + 8, order) & 0xFFFF_FFFFL);
                final int i = batch.count++;
                batch.offsets[i] = body + 20;
                batch.lengths[i] = caplen;
                batch.timestamps[i] = nanos(units, interfaceResolution.get(id)[0]);
                batch.interfaces[i] = id;
                records++;
            }
            case PCAPNG_SPB ->
            {
                if (interfaceResolution.isEmpty())
                {
                    throw brokenBlock("a packet before any interface block");
                }
                final int origlen = buffer.getInt(body, order);
                final int i = batch.count++;
                batch.offsets[i] = body + 4;
                batch.lengths[i] = Math.min(origlen, bodyLength - 4);
                batch.timestamps[i] = 0;
                batch.interfaces[i] = 0;
                records++;
            }
            default ->
            {
                // Section headers, statistics, name resolution, custom blocks: nothing to replay.
            }
        }
        position += length;
        return true;
    }

    /** An interface description block: link type, name (option 2), timestamp resolution (option 9). */
    private void readInterface(final int body, final int bodyLength) throws TraceFileException
    {
        final int linkType = buffer.getShort(body, order) & 0xFFFF;
        if (linkType != LINKTYPE_ETHERNET)
        {
            throw error("unsupported link type " + linkType + " on interface " + interfaceNames.size() +
                " (only Ethernet, DLT_EN10MB, is supported)");
        }
        String name = "";
        long unitsPerSecond = 1_000_000L;
        int at = body + 8;
        final int end = body + bodyLength;
        while (at + 4 <= end)
        {
            final int code = buffer.getShort(at, order) & 0xFFFF;
            final int length = buffer.getShort(at + 2, order) & 0xFFFF;
            if (code == 0 || at + 4 + length > end)
            {
                break;
            }
            if (code == 2)
            {
                final byte[] text = new byte[length];
                buffer.getBytes(at + 4, text);
                name = new String(text, java.nio.charset.StandardCharsets.UTF_8).replace("\0", "");
            }
            else if (code == 9 && length >= 1)
            {
                final int resolution = buffer.getByte(at + 4) & 0xFF;
                final int exponent = resolution & 0x7F;
                if ((resolution & 0x80) != 0 ? exponent > 62 : exponent > 18)
                {
                    throw brokenBlock("an interface with timestamp resolution " + resolution);
                }
                unitsPerSecond = (resolution & 0x80) != 0 ? 1L << exponent : pow10(exponent);
            }
            at += 4 + ((length + 3) & ~3);
        }
        interfaceNames.add(name);
        interfaceResolution.add(new long[] {unitsPerSecond});
    }

    private static long pow10(final int exponent)
    {
        long value = 1;
        for (int i = 0; i < exponent; i++)
        {
            value *= 10;
        }
        return value;
    }

    private static long nanos(final long units, final long unitsPerSecond)
    {
        final long seconds = Long.divideUnsigned(units, unitsPerSecond);
        final long fraction = Long.remainderUnsigned(units, unitsPerSecond);
        final long nanos;
        if (unitsPerSecond % NANOS_PER_SECOND == 0)
        {
            nanos = fraction / (unitsPerSecond / NANOS_PER_SECOND);
        }
        else if (NANOS_PER_SECOND % unitsPerSecond == 0)
        {
            nanos = fraction * (NANOS_PER_SECOND / unitsPerSecond);
        }
        else if (unitsPerSecond < 1L << 33)
        {
            nanos = fraction * NANOS_PER_SECOND / unitsPerSecond;
        }
        else
        {
            nanos = (long)((double)fraction * NANOS_PER_SECOND / unitsPerSecond);
        }
        return seconds * NANOS_PER_SECOND + nanos;
    }

    private TraceFileException brokenBlock(final String what)
    {
        return error("broken pcapng block at byte " + (consumed + position) + ": " + what);
    }

    private TraceFileException error(final String message)
    {
        return new TraceFileException(path + ": " + message);
    }

    @Override
    public void close()
    {
        closeQuietly(channel);
    }
}
