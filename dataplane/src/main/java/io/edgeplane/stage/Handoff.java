package io.edgeplane.stage;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * What crosses between workers, as VPP's handoff queues: a frame whose flow another worker owns (copied, since each
 * worker has its own pool), and a neighbor one worker learned from ARP (every worker keeps its own neighbor cache,
 * and the kernel hands an ARP reply to one of them). One single-producer single-consumer ring (Agrona's
 * {@link OneToOneRingBuffer}, off-heap) per ordered pair of workers, so no two threads ever write the same ring.
 *
 * <pre>
 * frame message:    port (msg type) | packetId u64 | timestampNanos u64 | frame bytes
 * neighbor message: NEIGHBOR | port u32 | ip u32 | vtep u32 | forUs u32 | mac u64
 * </pre>
 */
public final class Handoff
{
    /** Bytes per ring (a power of two): room for about 500 full-size frames in flight to one worker. */
    public static final int RING_BYTES = 1 << 20;
    private static final int NEIGHBOR = Integer.MAX_VALUE;
    private static final int FRAME_HEADER = 16;

    private final int workers;
    private final RingBuffer[] rings;

    /** Where a worker's incoming messages go. */
    public interface Receiver
    {
        void frame(int port, DirectBuffer buffer, int offset, int length, long packetId, long timestampNanos);

        void neighbor(int port, int ip, long mac, int vtep, boolean forUs);
    }

    public Handoff(final int workers)
    {
        this.workers = workers;
        this.rings = new RingBuffer[workers * workers];
        for (int from = 0; from < workers; from++)
        {
            for (int to = 0; to < workers; to++)
            {
                if (from != to)
                {
                    rings[from * workers + to] = new OneToOneRingBuffer(new UnsafeBuffer(
                        BufferUtil.allocateDirectAligned(RING_BYTES + RingBufferDescriptor.TRAILER_LENGTH, 64)));
                }
            }
        }
    }

    public int workers()
    {
        return workers;
    }

    /** Hand a frame to worker {@code to}; false when its ring from us is full (the caller counts the drop). */
    public boolean frame(final int from, final int to, final int port, final DirectBuffer frame, final int offset,
        final int length, final long packetId, final long timestampNanos)
    {
        final RingBuffer ring = rings[from * workers + to];
        final int index = ring.tryClaim(port + 1, FRAME_HEADER + length);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index, packetId);
        buffer.putLong(index + 8, timestampNanos);
        buffer.putBytes(index + FRAME_HEADER, frame, offset, length);
        ring.commit(index);
        return true;
    }

    /** Tell every other worker about a neighbor learned from ARP; false when some ring was full. */
    public boolean neighbor(final int from, final int port, final int ip, final long mac, final int vtep,
        final boolean forUs)
    {
        boolean all = true;
        for (int to = 0; to < workers; to++)
        {
            if (to == from)
            {
                continue;
            }
            final RingBuffer ring = rings[from * workers + to];
            final int index = ring.tryClaim(NEIGHBOR, 24);
            if (index <= 0)
            {
                all = false;
                continue;
            }
            final MutableDirectBuffer buffer = ring.buffer();
            buffer.putInt(index, port);
            buffer.putInt(index + 4, ip);
            buffer.putInt(index + 8, vtep);
            buffer.putInt(index + 12, forUs ? 1 : 0);
            buffer.putLong(index + 16, mac);
            ring.commit(index);
        }
        return all;
    }

    /** The handler a receiving worker makes once (no allocation per drain). */
    public static MessageHandler handler(final Receiver receiver)
    {
        return (type, buffer, index, length) ->
        {
            if (type == NEIGHBOR)
            {
                receiver.neighbor(buffer.getInt(index), buffer.getInt(index + 4), buffer.getLong(index + 16),
                    buffer.getInt(index + 8), buffer.getInt(index + 12) != 0);
            }
            else
            {
                receiver.frame(type - 1, buffer, index + FRAME_HEADER, length - FRAME_HEADER, buffer.getLong(index),
                    buffer.getLong(index + 8));
            }
        };
    }

    /** Worker {@code to}: deliver up to {@code limit} messages from each other worker; returns how many. */
    public int drain(final int to, final MessageHandler handler, final int limit)
    {
        int read = 0;
        for (int from = 0; from < workers; from++)
        {
            if (from != to)
            {
                // A read stops at the end of the ring's buffer: read on past the wrap, or a steady stream of
                // exactly `limit` a cycle would leave a little behind at every lap until the ring filled.
                final RingBuffer ring = rings[from * workers + to];
                final int first = ring.read(handler, limit);
                read += first < limit ? first + ring.read(handler, limit - first) : first;
            }
        }
        return read;
    }

    /** True when no message waits for any worker (single-threaded drivers: replay, tests). */
    public boolean idle()
    {
        for (final RingBuffer ring : rings)
        {
            if (ring != null && ring.size() > 0)
            {
                return false;
            }
        }
        return true;
    }
}
