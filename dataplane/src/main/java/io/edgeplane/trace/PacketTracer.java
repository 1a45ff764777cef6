package io.edgeplane.trace;

import io.edgeplane.buffer.PacketPool;

/**
 * Marks packets for tracing (the first N received, optionally only those to or from one IPv4 address) and keeps a
 * plain record per stage per traced packet in preallocated primitive arrays. Formatting to text happens later,
 * off the hot path, from a {@link #snapshot()} copy. Owned by the worker thread.
 */
public final class PacketTracer
{
    private final long[] packetId;
    private final int[] stage;
    private final int[] next;
    private final int[] reason;
    private final int[] a;
    private final int[] b;
    private final int[] c;
    private final int[] d;
    private int count;
    private long lost;
    private int remaining;
    private int filterAddress;
    private boolean filtered;

    public PacketTracer(final int capacity)
    {
        packetId = new long[capacity];
        stage = new int[capacity];
        next = new int[capacity];
        reason = new int[capacity];
        a = new int[capacity];
        b = new int[capacity];
        c = new int[capacity];
        d = new int[capacity];
    }

    /** Trace the next {@code packets} packets received (0 turns tracing off). */
    public void traceFirst(final int packets)
    {
        remaining = packets;
        filtered = false;
    }

    /** Trace the next {@code packets} IPv4 packets whose source or destination is {@code address}. */
    public void traceAddress(final int address, final int packets)
    {
        remaining = packets;
        filterAddress = address;
        filtered = true;
    }

    public boolean armed()
    {
        return remaining > 0;
    }

    /** Called at receive: marks the packet when the tracer is armed without a filter. */
    public void onReceive(final PacketPool pool, final int h)
    {
        if (remaining > 0 && !filtered)
        {
            remaining--;
            pool.traced(h, true);
        }
    }

    /** Called by ip4-input once addresses are known: applies the address filter. */
    public void onIpv4(final PacketPool pool, final int h, final int source, final int destination)
    {
        if (remaining > 0 && filtered && !pool.traced(h) && (source == filterAddress || destination == filterAddress))
        {
            remaining--;
            pool.traced(h, true);
        }
    }

    public void record(
        final long id, final int stageId, final int nextStage, final int dropReason,
        final int argA, final int argB, final int argC, final int argD)
    {
        if (count == packetId.length)
        {
            lost++;
            return;
        }
        final int i = count++;
        packetId[i] = id;
        stage[i] = stageId;
        next[i] = nextStage;
        reason[i] = dropReason;
        a[i] = argA;
        b[i] = argB;
        c[i] = argC;
        d[i] = argD;
    }

    public int count()
    {
        return count;
    }

    public long lost()
    {
        return lost;
    }

    /** Copy the records (on the worker) so they can be formatted on another thread. */
    public TraceRecords snapshot()
    {
        return new TraceRecords(count, lost, packetId, stage, next, reason, a, b, c, d);
    }

    public void clear()
    {
        count = 0;
        lost = 0;
    }
}
