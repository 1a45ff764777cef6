package io.edgeplane.port;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;

import java.util.Arrays;

/**
 * A packet trace held in off-heap memory (like {@code tcpreplay -K}): frames back to back in one buffer, with
 * offsets, lengths and timestamps in primitive arrays. Replay and benchmarks feed the dataplane from here, so
 * their speed is not bound by file reading; replay also writes dropped frames to drops.pcap from here, exactly as
 * they arrived. Frame i has packet id i + 1.
 */
public final class PreloadedTrace
{
    private final ExpandableDirectByteBuffer data = new ExpandableDirectByteBuffer(1 << 16);
    private int[] offsets = new int[1024];
    private int[] lengths = new int[1024];
    private long[] timestamps = new long[1024];
    private int count;
    private int end;

    public void add(final byte[] frame, final int length, final long timestampNanos)
    {
        if (count == offsets.length)
        {
            final int capacity = count * 2;
            offsets = Arrays.copyOf(offsets, capacity);
            lengths = Arrays.copyOf(lengths, capacity);
            timestamps = Arrays.copyOf(timestamps, capacity);
        }
        if ((long)end + length > Integer.MAX_VALUE - 16)
        {
            throw new IllegalStateException("trace larger than 2 GiB");
        }
        data.putBytes(end, frame, 0, length);
        offsets[count] = end;
        lengths[count] = length;
        timestamps[count] = timestampNanos;
        count++;
        end += length;
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
