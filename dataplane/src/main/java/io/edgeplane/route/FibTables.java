package io.edgeplane.route;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The compiled forwarding table that workers read: a DIR-24-8 longest-prefix-match structure whose entries name a
 * next-hop group, plus the groups themselves.
 *
 * <pre>
 * tbl24 / tbl8 entry (32 bits)
 *  31  30  29 ........ 24  23 ............................... 0
 * +---+---+--------------+-----------------------------------+
 * | V | X |    depth     |  group id (X=0) / tbl8 index (X=1) |
 * +---+---+--------------+-----------------------------------+
 * V: valid (the sign bit, so "valid" is e &lt; 0), X: extended to a 256-entry tbl8 block for /25../32,
 * depth: the prefix length that wrote the entry (lets updates touch only entries they own).
 * </pre>
 * A lookup is one read of {@code tbl24[addr >>> 8]} and, for addresses under a prefix longer than /24, one read
 * of the tbl8 block. Metric preference and ECMP are resolved when the group is chosen (build time); a group lists
 * its members as adjacencies and the flow hash picks one. An adjacency is (egress port, next hop, next stage): the
 * next stage is ip4-rewrite for a port on a wire, or an encapsulation (a "midchain") for a tunnel port.
 * <p>
 * Concurrency: a single writer ({@link Fib}) changes entries in place, one int at a time, in an order that makes
 * every intermediate state answer either the old or the new route; a new tbl8 block is filled completely before
 * the tbl24 entry pointing at it is published with a release store, and a group or adjacency is written before any
 * entry names it. Groups and adjacencies are immutable while referenced; one no longer referenced is reused only
 * after a grace period far longer than a worker holds an id (one vector), see {@link Fib}. Growth copies into a
 * new instance that {@link Fib} swaps in (RCU); a worker reads the current instance once per vector.
 */
public final class FibTables
{
    public static final int NO_ROUTE = -1;
    public static final int VALID = 1 << 31;
    public static final int EXTENDED = 1 << 30;
    public static final int DEPTH_SHIFT = 24;
    public static final int VALUE_MASK = (1 << 24) - 1;
    public static final int TBL24_SIZE = 1 << 24;
    public static final int TBL8_BLOCK = 256;

    /** Forward to a member (port, gateway; a gateway of 0 means the destination itself is on-link). */
    public static final int KIND_FORWARD = 0;
    /** Addressed to the gateway itself. */
    public static final int KIND_LOCAL = 1;
    /** A directed broadcast address of a connected subnet: never forwarded. */
    public static final int KIND_BROADCAST = 2;

    static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    final int[] tbl24;
    final int[] tbl8;
    int tbl8Used;

    final int[] groupKind;
    /** Per group, its members as adjacency ids; an array is immutable once published. */
    final int[][] groupMembers;
    final int[] adjacencyPort;
    final int[] adjacencyNextHop;
    final int[] adjacencyNext;
    int groupLimit;
    int adjacencyLimit;
    int groupsLive;

    FibTables(final int tbl8Blocks, final int groups, final int adjacencies)
    {
        tbl24 = new int[TBL24_SIZE];
        tbl8 = new int[tbl8Blocks * TBL8_BLOCK];
        groupKind = new int[groups];
        groupMembers = new int[groups][];
        adjacencyPort = new int[adjacencies];
        adjacencyNextHop = new int[adjacencies];
        adjacencyNext = new int[adjacencies];
    }

    /** A copy with more room; entries, groups and adjacencies keep their values and ids. */
    FibTables(final FibTables from, final int tbl8Blocks, final int groups, final int adjacencies)
    {
        tbl24 = from.tbl24.clone();
        tbl8 = Arrays.copyOf(from.tbl8, tbl8Blocks * TBL8_BLOCK);
        tbl8Used = from.tbl8Used;
        copyGroupsAndAdjacencies(from, groups, adjacencies);
        groupKind = Arrays.copyOf(from.groupKind, groups);
        groupMembers = Arrays.copyOf(from.groupMembers, groups);
        adjacencyPort = Arrays.copyOf(from.adjacencyPort, adjacencies);
        adjacencyNextHop = Arrays.copyOf(from.adjacencyNextHop, adjacencies);
        adjacencyNext = Arrays.copyOf(from.adjacencyNext, adjacencies);
    }

    /** Fresh (empty) lookup tables that keep {@code from}'s groups and adjacencies. */
    FibTables(final int tbl8Blocks, final FibTables from)
    {
        tbl24 = new int[TBL24_SIZE];
        tbl8 = new int[tbl8Blocks * TBL8_BLOCK];
        copyGroupsAndAdjacencies(from, from.groupKind.length, from.adjacencyPort.length);
        groupKind = from.groupKind.clone();
        groupMembers = from.groupMembers.clone();
        adjacencyPort = from.adjacencyPort.clone();
        adjacencyNextHop = from.adjacencyNextHop.clone();
        adjacencyNext = from.adjacencyNext.clone();
    }

    private void copyGroupsAndAdjacencies(final FibTables from, final int groups, final int adjacencies)
    {
        groupLimit = Math.min(from.groupLimit, groups);
        adjacencyLimit = Math.min(from.adjacencyLimit, adjacencies);
        groupsLive = from.groupsLive;
    }

    /**
     * Longest-prefix match.
     *
     * @return the next-hop group id, or {@link #NO_ROUTE}.
     */
    public int lookup(final int address)
    {
        int entry = tbl24[address >>> 8];
        if ((entry & EXTENDED) != 0)
        {
            entry = tbl8[((entry & VALUE_MASK) << 8) | (address & 0xFF)];
        }
        return entry < 0 ? entry & VALUE_MASK : NO_ROUTE;
    }

    /**
     * Look up {@code count} addresses: all tbl24 reads first, then the tbl8 reads, so the cache misses of
     * independent lookups overlap instead of queueing behind one another.
     */
    public void lookup(final int[] addresses, final int[] groups, final int count)
    {
        final int[] tbl24 = this.tbl24;
        for (int i = 0; i < count; i++)
        {
            groups[i] = tbl24[addresses[i] >>> 8];
        }
        final int[] tbl8 = this.tbl8;
        for (int i = 0; i < count; i++)
        {
            int entry = groups[i];
            if ((entry & EXTENDED) != 0)
            {
                entry = tbl8[((entry & VALUE_MASK) << 8) | (addresses[i] & 0xFF)];
            }
            groups[i] = entry < 0 ? entry & VALUE_MASK : NO_ROUTE;
        }
    }

    public int kind(final int group)
    {
        return groupKind[group];
    }

    public int memberCount(final int group)
    {
        return groupMembers[group].length;
    }

    /** The adjacency chosen for a flow: multiply-shift maps the hash evenly onto the group's members. */
    public int adjacency(final int group, final int flowHash)
    {
        final int[] members = groupMembers[group];
        final int size = members.length;
        return members[size == 1 ? 0 : (int)(((flowHash & 0xFFFF_FFFFL) * size) >>> 32)];
    }

    /** The {@code index}-th member of a group (listing, tests). */
    public int adjacencyAt(final int group, final int index)
    {
        return groupMembers[group][index];
    }

    /** The egress port of an adjacency. */
    public int adjacencyPort(final int adjacency)
    {
        return adjacencyPort[adjacency];
    }

    /** The next hop of an adjacency; 0 means the destination itself is on-link. */
    public int adjacencyNextHop(final int adjacency)
    {
        return adjacencyNextHop[adjacency];
    }

    /** Which stage takes a packet using this adjacency ({@link Adjacency#REWRITE}, or a midchain stage). */
    public int adjacencyNext(final int adjacency)
    {
        return adjacencyNext[adjacency];
    }

    /** Receives the FIB as address ranges: every address from {@code start} up to the next run's start. */
    @FunctionalInterface
    public interface RunConsumer
    {
        void accept(long start, int group);
    }

    /**
     * Walk the whole table as maximal runs of addresses with the same answer ({@link #NO_ROUTE} included), in
     * address order. Off the hot path: for building other lookup structures from this one, and for dumps.
     */
    public void forEachRun(final RunConsumer consumer)
    {
        int current = Integer.MIN_VALUE;
        for (int i = 0; i < TBL24_SIZE; i++)
        {
            final int entry = tbl24[i];
            if ((entry & EXTENDED) != 0)
            {
                final int base = (entry & VALUE_MASK) * TBL8_BLOCK;
                for (int j = 0; j < TBL8_BLOCK; j++)
                {
                    final int sub = tbl8[base + j];
                    final int group = sub < 0 ? sub & VALUE_MASK : NO_ROUTE;
                    if (group != current)
                    {
                        current = group;
                        consumer.accept((long)i << 8 | j, group);
                    }
                }
            }
            else
            {
                final int group = entry < 0 ? entry & VALUE_MASK : NO_ROUTE;
                if (group != current)
                {
                    current = group;
                    consumer.accept((long)i << 8, group);
                }
            }
        }
    }

    public int tbl8BlocksUsed()
    {
        return tbl8Used;
    }

    /** One past the highest group id ever handed out in these tables (ids are reused, so this stays bounded). */
    public int groupIdLimit()
    {
        return groupLimit;
    }

    /** Groups in use (referenced by at least one prefix). */
    public int groupCount()
    {
        return groupsLive;
    }

    /** Bytes held by the arrays of this instance. */
    public long memoryBytes()
    {
        return 4L * (tbl24.length + tbl8.length + groupKind.length * 2L + adjacencyPort.length * 3L);
    }
}
