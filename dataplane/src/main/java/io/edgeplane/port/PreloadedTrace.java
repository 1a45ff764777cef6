package io.edgeplane.port;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

import java.util.Arrays;

/**
 * A packet trace held in off-heap memory (like {@code tcpreplay -K}): frames back to back in one buffer, with
 * offsets, lengths, timestamps and ingress ports in primitive arrays. Benchmarks feed the dataplane from here, so
 * their speed is not bound by file reading (replay streams its file instead). Frame i has packet id i + 1.
 */
public final class PreloadedTrace
{
    private final ExpandableDirectByteBuffer data;
    private int[] offsets = new int[1024];
    private int[] lengths = new int[1024];
    private long[] timestamps = new long[1024];
    private int[] ports = new int[1024];
    private int count;
    private int end;

    public PreloadedTrace()
    {
        this(1 << 16);
    }

    /** @param capacity the bytes of frames expected (one allocation instead of doubling up to them). */
    public PreloadedTrace(final int capacity)
    {
        data = new ExpandableDirectByteBuffer(Math.max(1 << 16, capacity));
    }

    /** Bytes of frames held. */
    public long bytes()
    {
        return end;
    }

    public void add(final byte[] frame, final int length, final long timestampNanos)
    {
        add(new org.agrona.concurrent.UnsafeBuffer(frame), 0, length, timestampNanos, 0);
    }

    /** Append a copy of {@code length} bytes of {@code source} as a frame arriving on {@code port}. */
    public void add(final DirectBuffer source, final int offset, final int length, final long timestampNanos,
        final int port)
    {
        if (count == offsets.length)
        {
            final int capacity = count * 2;
            offsets = Arrays.copyOf(offsets, capacity);
            lengths = Arrays.copyOf(lengths, capacity);
            timestamps = Arrays.copyOf(timestamps, capacity);
            ports = Arrays.copyOf(ports, capacity);
        }
        if ((long)end + length > Integer.MAX_VALUE - 16)
        {
            throw new IllegalStateException("trace larger than 2 GiB");
        }
        data.putBytes(end, source, offset, length);
        offsets[count] = end;
        lengths[count] = length;
        timestamps[count] = timestampNanos;
        ports[count] = port;
        count++;
        end += length;
    }

    /** The port the frame arrives on. */
    public int port(final int index)
    {
        return ports[index];
    }

    public int count()
    {
        return count;
    }

    public DirectBuffer buffer()
    {
        return data;
    }

    public int offset(final int index)
    {
        return offsets[index];
    }

    public int length(final int index)
    {
        return lengths[index];
    }

    public long timestampNanos(final int index)
    {
        return timestamps[index];
    }

    public byte[] copyFrame(final int index)
    {
        final byte[] frame = new byte[lengths[index]];
        data.getBytes(offsets[index], frame);
        return frame;
    }
}
