package io.edgeplane.buffer;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A preallocated off-heap region of fixed-size packet slots plus the per-packet metadata, kept as a struct of
 * primitive arrays indexed by the slot number (the packet "handle").
 *
 * <pre>
 *  slot i (slotSize bytes)
 * +----------------------+-------------------------------------------+
 * |  headroom (>= 128 B) |  frame: Ethernet | IPv4 | L4 | payload ... |
 * +----------------------+-------------------------------------------+
 * ^ slotBase(i)          ^ frameOffset(i) (absolute offset into buffer())
 * </pre>
 *
 * Encapsulation moves {@code frameOffset} back into the headroom instead of copying the frame. Offsets stored here
 * are absolute offsets into {@link #buffer()}, so a flyweight wraps {@code buffer(), frameOffset(h)} directly.
 * <p>
 * Owned by exactly one worker thread: nothing here is thread safe, by design.
 */
public final class PacketPool
{
    public static final int DEFAULT_SLOT_SIZE = 2048;
    public static final int HEADROOM = 128;
    public static final int NO_PACKET = -1;
    /** The gateway itself originated this packet (ICMP, ARP): no TTL decrement, no forwarding checks. */
    public static final int FLAG_LOCAL_ORIGIN = 1;

    private final UnsafeBuffer buffer;
    private final int slotSize;
    private final int slotCount;
    private final int[] freeStack;
    private int freeCount;

    private final int[] frameOffset;
    private final int[] frameLength;
    private final int[] l3Offset;
    private final int[] inPort;
    private final int[] outPort;
    private final int[] next;
    private final int[] dropReason;
    private final int[] flowHash;
    private final int[] nextHopAddress;
    private final boolean[] traced;
    private final int[] flags;
    private final long[] packetId;
    private final long[] timestampNanos;

    public PacketPool(final int slotCount)
    {
        this(slotCount, DEFAULT_SLOT_SIZE);
    }

    public PacketPool(final int slotCount, final int slotSize)
    {
        if (slotCount <= 0 || slotSize < HEADROOM + 64 || Integer.bitCount(slotSize) != 1)
        {
            throw new IllegalArgumentException("slotCount must be > 0 and slotSize a power of two >= 256");
        }
        if ((long)slotCount * slotSize > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("pool larger than 2 GiB: " + slotCount + " x " + slotSize);
        }
        this.slotSize = slotSize;
        this.slotCount = slotCount;
        this.buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(slotCount * slotSize, 64));
        this.freeStack = new int[slotCount];
        this.frameOffset = new int[slotCount];
        this.frameLength = new int[slotCount];
        this.l3Offset = new int[slotCount];
        this.inPort = new int[slotCount];
        this.outPort = new int[slotCount];
        this.next = new int[slotCount];
        this.dropReason = new int[slotCount];
        this.flowHash = new int[slotCount];
        this.nextHopAddress = new int[slotCount];
        this.traced = new boolean[slotCount];
        this.flags = new int[slotCount];
        this.packetId = new long[slotCount];
        this.timestampNanos = new long[slotCount];
        for (int i = 0; i < slotCount; i++)
        {
            freeStack[i] = slotCount - 1 - i;
        }
        freeCount = slotCount;
    }

    /**
     * Take a free slot and reset its metadata; the frame starts after the headroom with length 0.
     *
     * @return the handle, or {@link #NO_PACKET} when the pool is exhausted.
     */
    public int allocate()
    {
        if (freeCount == 0)
        {
            return NO_PACKET;
        }
        final int h = freeStack[--freeCount];
        frameOffset[h] = h * slotSize + HEADROOM;
        frameLength[h] = 0;
        l3Offset[h] = 0;
        inPort[h] = -1;
        outPort[h] = -1;
        next[h] = 0;
        dropReason[h] = 0;
        flowHash[h] = 0;
        nextHopAddress[h] = 0;
        traced[h] = false;
        flags[h] = 0;
        packetId[h] = 0;
        timestampNanos[h] = 0;
        return h;
    }

    public void free(final int h)
    {
        freeStack[freeCount++] = h;
    }

    public int freeCount()
    {
        return freeCount;
    }

    public int slotCount()
    {
        return slotCount;
    }

    public int slotSize()
    {
        return slotSize;
    }

    /** Bytes a frame may occupy when it starts right after the headroom. */
    public int maxFrameLength()
    {
        return slotSize - HEADROOM;
    }

    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    public int slotBase(final int h)
    {
        return h * slotSize;
    }

    public int frameOffset(final int h)
    {
        return frameOffset[h];
    }

    public void frameOffset(final int h, final int offset)
    {
        frameOffset[h] = offset;
    }

    public int frameLength(final int h)
    {
        return frameLength[h];
    }

    public void frameLength(final int h, final int length)
    {
        frameLength[h] = length;
    }

    public int l3Offset(final int h)
    {
        return l3Offset[h];
    }

    public void l3Offset(final int h, final int offset)
    {
        l3Offset[h] = offset;
    }

    public int inPort(final int h)
    {
        return inPort[h];
    }

    public void inPort(final int h, final int port)
    {
        inPort[h] = port;
    }

    public int outPort(final int h)
    {
        return outPort[h];
    }

    public void outPort(final int h, final int port)
    {
        outPort[h] = port;
    }

    public int next(final int h)
    {
        return next[h];
    }

    public void next(final int h, final int stage)
    {
        next[h] = stage;
    }

    public int dropReason(final int h)
    {
        return dropReason[h];
    }

    public void dropReason(final int h, final int reason)
    {
        dropReason[h] = reason;
    }

    public int flowHash(final int h)
    {
        return flowHash[h];
    }

    public void flowHash(final int h, final int hash)
    {
        flowHash[h] = hash;
    }

    public int nextHopAddress(final int h)
    {
        return nextHopAddress[h];
    }

    public void nextHopAddress(final int h, final int address)
    {
        nextHopAddress[h] = address;
    }

    public boolean traced(final int h)
    {
        return traced[h];
    }

    public void traced(final int h, final boolean on)
    {
        traced[h] = on;
    }

    public int flags(final int h)
    {
        return flags[h];
    }

    public void flags(final int h, final int value)
    {
        flags[h] = value;
    }

    public long packetId(final int h)
    {
        return packetId[h];
    }

    public void packetId(final int h, final long id)
    {
        packetId[h] = id;
    }

    public long timestampNanos(final int h)
    {
        return timestampNanos[h];
    }

    public void timestampNanos(final int h, final long nanos)
    {
        timestampNanos[h] = nanos;
    }
}
