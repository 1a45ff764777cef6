package io.edgeplane.buffer;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * A preallocated off-heap region of fixed-size packet slots plus the per-packet metadata, kept in primitive arrays
 * indexed by the slot number (the packet "handle").
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
 * Metadata is one row of {@link #INT_FIELDS} ints (64 bytes, one cache line) and {@link #LONG_FIELDS} longs per
 * slot: a stage that touches several fields of one packet touches one line, and adding a per-packet field is one
 * new index constant ({@code pool.meta(h, FIELD)} reads it; allocation clears the whole row). The named accessors
 * below are shorthands for the fields every stage uses.
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
    /** The frame was sent to the Ethernet broadcast address (not to the port's MAC): never forwarded. */
    public static final int FLAG_L2_BROADCAST = 2;
    /** The packet is a whole Ethernet frame to send as it is (an ARP reply through a tunnel), not an IPv4 packet. */
    public static final int FLAG_L2_FRAME = 4;

    // The int fields of a packet's metadata row. Add a field by adding an index below INT_FIELDS.
    public static final int FRAME_OFFSET = 0;
    public static final int FRAME_LENGTH = 1;
    public static final int L3_OFFSET = 2;
    /** Offset of the L4 header of a first (or only) fragment, 0 when there is none; set by ip4-input. */
    public static final int L4_OFFSET = 3;
    public static final int IN_PORT = 4;
    public static final int OUT_PORT = 5;
    public static final int NEXT = 6;
    public static final int DROP_REASON = 7;
    public static final int FLOW_HASH = 8;
    public static final int NEXT_HOP = 9;
    public static final int TRACED = 10;
    public static final int FLAGS = 11;
    /** Opaque to the core: a feature on an arc keeps per-packet state here (e.g. its session index). */
    public static final int FEATURE_OPAQUE = 12;
    /** The adjacency ip4-lookup chose (rewrite and midchain stages read their parameters from it). */
    public static final int ADJACENCY = 13;
    public static final int INT_FIELDS = 16;

    public static final int PACKET_ID = 0;
    public static final int TIMESTAMP_NANOS = 1;
    public static final int LONG_FIELDS = 2;

    private final UnsafeBuffer buffer;
    private final int slotSize;
    private final int slotCount;
    private final int[] freeStack;
    private int freeCount;
    private final int[] meta;
    private final long[] meta64;

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
        this.meta = new int[slotCount * INT_FIELDS];
        this.meta64 = new long[slotCount * LONG_FIELDS];
        for (int i = 0; i < slotCount; i++)
        {
            freeStack[i] = slotCount - 1 - i;
        }
        freeCount = slotCount;
    }

    /**
     * Take a free slot and clear its metadata; the frame starts after the headroom with length 0.
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
        final int row = h * INT_FIELDS;
        Arrays.fill(meta, row, row + INT_FIELDS, 0);
        meta[row + FRAME_OFFSET] = h * slotSize + HEADROOM;
        meta[row + IN_PORT] = -1;
        meta[row + OUT_PORT] = -1;
        meta64[h * LONG_FIELDS] = 0;
        meta64[h * LONG_FIELDS + 1] = 0;
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

    /** Any int field of the packet's metadata row. */
    public int meta(final int h, final int field)
    {
        return meta[h * INT_FIELDS + field];
    }

    public void meta(final int h, final int field, final int value)
    {
        meta[h * INT_FIELDS + field] = value;
    }

    public int frameOffset(final int h)
    {
        return meta[h * INT_FIELDS + FRAME_OFFSET];
    }

    public void frameOffset(final int h, final int offset)
    {
        meta[h * INT_FIELDS + FRAME_OFFSET] = offset;
    }

    public int frameLength(final int h)
    {
        return meta[h * INT_FIELDS + FRAME_LENGTH];
    }

    public void frameLength(final int h, final int length)
    {
        meta[h * INT_FIELDS + FRAME_LENGTH] = length;
    }

    public int l3Offset(final int h)
    {
        return meta[h * INT_FIELDS + L3_OFFSET];
    }

    public void l3Offset(final int h, final int offset)
    {
        meta[h * INT_FIELDS + L3_OFFSET] = offset;
    }

    public int l4Offset(final int h)
    {
        return meta[h * INT_FIELDS + L4_OFFSET];
    }

    public void l4Offset(final int h, final int offset)
    {
        meta[h * INT_FIELDS + L4_OFFSET] = offset;
    }

    public int inPort(final int h)
    {
        return meta[h * INT_FIELDS + IN_PORT];
    }

    public void inPort(final int h, final int port)
    {
        meta[h * INT_FIELDS + IN_PORT] = port;
    }

    public int outPort(final int h)
    {
        return meta[h * INT_FIELDS + OUT_PORT];
    }

    public void outPort(final int h, final int port)
    {
        meta[h * INT_FIELDS + OUT_PORT] = port;
    }

    public int next(final int h)
    {
        return meta[h * INT_FIELDS + NEXT];
    }

    public void next(final int h, final int stage)
    {
        meta[h * INT_FIELDS + NEXT] = stage;
    }

    public int dropReason(final int h)
    {
        return meta[h * INT_FIELDS + DROP_REASON];
    }

    public void dropReason(final int h, final int reason)
    {
        meta[h * INT_FIELDS + DROP_REASON] = reason;
    }

    public int flowHash(final int h)
    {
        return meta[h * INT_FIELDS + FLOW_HASH];
    }

    public void flowHash(final int h, final int hash)
    {
        meta[h * INT_FIELDS + FLOW_HASH] = hash;
    }

    public int nextHopAddress(final int h)
    {
        return meta[h * INT_FIELDS + NEXT_HOP];
    }

    public void nextHopAddress(final int h, final int address)
    {
        meta[h * INT_FIELDS + NEXT_HOP] = address;
    }

    public int flags(final int h)
    {
        return meta[h * INT_FIELDS + FLAGS];
    }

    public void flags(final int h, final int value)
    {
        meta[h * INT_FIELDS + FLAGS] = value;
    }

    public int adjacency(final int h)
    {
        return meta[h * INT_FIELDS + ADJACENCY];
    }

    public void adjacency(final int h, final int adjacency)
    {
        meta[h * INT_FIELDS + ADJACENCY] = adjacency;
    }

    public boolean traced(final int h)
    {
        return meta[h * INT_FIELDS + TRACED] != 0;
    }

    public void traced(final int h, final boolean on)
    {
        meta[h * INT_FIELDS + TRACED] = on ? 1 : 0;
    }

    public long packetId(final int h)
    {
        return meta64[h * LONG_FIELDS + PACKET_ID];
    }

    public void packetId(final int h, final long id)
    {
        meta64[h * LONG_FIELDS + PACKET_ID] = id;
    }

    public long timestampNanos(final int h)
    {
        return meta64[h * LONG_FIELDS + TIMESTAMP_NANOS];
    }

    public void timestampNanos(final int h, final long nanos)
    {
        meta64[h * LONG_FIELDS + TIMESTAMP_NANOS] = nanos;
    }
}
