package io.edgeplane.route;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import static io.edgeplane.route.FibTables.DEPTH_SHIFT;
import static io.edgeplane.route.FibTables.EXTENDED;
import static io.edgeplane.route.FibTables.INTS;
import static io.edgeplane.route.FibTables.TBL8_BLOCK;
import static io.edgeplane.route.FibTables.VALID;
import static io.edgeplane.route.FibTables.VALUE_MASK;

/**
 * The single writer of the DIR-24-8 tables (DPDK {@code rte_lpm} style, in place): {@link #install} writes a
 * prefix's group into every entry it covers whose current depth is not longer; {@link #remove} rewrites the
 * entries the prefix owns (depth equal) with the covering prefix's entry. Costs per update: a /len &lt;= 24 prefix
 * touches 2^(24-len) tbl24 entries (plus the tbl8 blocks under them); a longer prefix touches at most 256.
 * tbl8 blocks are not recycled while in use by a table instance (a reader may still hold an old pointer); they
 * are reclaimed by the occasional full rebuild. Groups and adjacencies are reference counted by the prefixes that
 * use them, freed with the last reference, and their ids reused after {@link #REUSE_GRACE_NANOS}. Not thread safe: the owner ({@link RoutingTable}) serialises calls.
 */
public final class Fib
{
    private static final int INITIAL_TBL8_BLOCKS = 64;
    private static final int INITIAL_GROUPS = 256;
    private static final int INITIAL_ADJACENCIES = 256;
    /**
     * How long a released group or adjacency id waits before reuse. A worker holds an id for one vector
     * (microseconds) between reading the FIB entry and reading the group; a second is a wide margin.
     */
    public static final long REUSE_GRACE_NANOS = 1_000_000_000L;

    private final int maxTbl8Blocks;
    private final LongSupplier clock;
    private volatile FibTables tables;
    private final Map<List<Integer>, Integer> groupIds = new HashMap<>();
    private final Map<Long, Integer> adjacencyIds = new HashMap<>();
    private final List<List<Integer>> groupKeys = new ArrayList<>();
    private int[] groupRefs = new int[INITIAL_GROUPS];
    private int[] adjacencyRefs = new int[INITIAL_ADJACENCIES];
    private final ArrayDeque<long[]> releasedGroups = new ArrayDeque<>();
    private final ArrayDeque<long[]> releasedAdjacencies = new ArrayDeque<>();
    private int adjacenciesLive;

    public Fib(final int maxTbl8Blocks)
    {
        this(maxTbl8Blocks, System::nanoTime);
    }

    /** @param clock the time source of the reuse grace period (tests drive it). */
    public Fib(final int maxTbl8Blocks, final LongSupplier clock)
    {
        this.maxTbl8Blocks = maxTbl8Blocks;
        this.clock = clock;
        this.tables = new FibTables(Math.min(INITIAL_TBL8_BLOCKS, maxTbl8Blocks), INITIAL_GROUPS,
            INITIAL_ADJACENCIES);
    }

    /** The current tables; workers call this once per vector. */
    public FibTables tables()
    {
        return tables;
    }

    static int entry(final int depth, final int group)
    {
        return VALID | depth << DEPTH_SHIFT | group;
    }

    static int depthOf(final int entry)
    {
        return (entry >>> DEPTH_SHIFT) & 0x3F;
    }

    /**
     * Take a reference on the group with these members, creating it (and its adjacencies) if no group has exactly
     * these members. Members are (port, next hop, next stage) triples in a canonical order chosen by the caller.
     * Every acquire is paired with one {@link #releaseGroup}.
     */
    public int acquireGroup(final int kind, final int[] ports, final int[] nextHops, final int[] nexts)
    {
        final int[] members = new int[ports.length];
        final List<Integer> key = new ArrayList<>(1 + members.length);
        key.add(kind);
        for (int i = 0; i < members.length; i++)
        {
            members[i] = acquireAdjacency(ports[i], nextHops[i], nexts[i]);
            key.add(members[i]);
        }
        final Integer existing = groupIds.get(key);
        if (existing != null)
        {
            for (final int adjacency : members)
            {
                releaseAdjacency(adjacency);
            }
            groupRefs[existing]++;
            return existing;
        }
        final int id = newGroupId();
        final FibTables t = tables;
        t.groupKind[id] = kind;
        t.groupMembers[id] = members;
        t.groupsLive++;
        groupIds.put(key, id);
        while (groupKeys.size() <= id)
        {
            groupKeys.add(null);
        }
        groupKeys.set(id, key);
        groupRefs[id] = 1;
        return id;
    }

    /** Drop one reference; the last one frees the group and its adjacency references (reused after the grace). */
    public void releaseGroup(final int group)
    {
        if (--groupRefs[group] > 0)
        {
            return;
        }
        groupIds.remove(groupKeys.get(group));
        groupKeys.set(group, null);
        final FibTables t = tables;
        for (final int adjacency : t.groupMembers[group])
        {
            releaseAdjacency(adjacency);
        }
        t.groupsLive--;
        releasedGroups.add(new long[] {group, clock.getAsLong()});
    }

    /** Adjacencies in use. */
    public int adjacencyCount()
    {
        return adjacenciesLive;
    }

    private int acquireAdjacency(final int port, final int nextHop, final int next)
    {
        final long key = (long)port << 40 | (long)next << 32 | (nextHop & 0xFFFF_FFFFL);
        final Integer existing = adjacencyIds.get(key);
        if (existing != null)
        {
            adjacencyRefs[existing]++;
            return existing;
        }
        final int id = newAdjacencyId();
        final FibTables t = tables;
        t.adjacencyPort[id] = port;
        t.adjacencyNextHop[id] = nextHop;
        t.adjacencyNext[id] = next;
        adjacencyIds.put(key, id);
        adjacencyRefs[id] = 1;
        adjacenciesLive++;
        return id;
    }

    private void releaseAdjacency(final int adjacency)
    {
        if (--adjacencyRefs[adjacency] > 0)
        {
            return;
        }
        final FibTables t = tables;
        adjacencyIds.remove((long)t.adjacencyPort[adjacency] << 40 | (long)t.adjacencyNext[adjacency] << 32 |
            (t.adjacencyNextHop[adjacency] & 0xFFFF_FFFFL));
        adjacenciesLive--;
        releasedAdjacencies.add(new long[] {adjacency, clock.getAsLong()});
    }

    private int newGroupId()
    {
        final long[] head = releasedGroups.peek();
        if (head != null && clock.getAsLong() - head[1] >= REUSE_GRACE_NANOS)
        {
            releasedGroups.poll();
            return (int)head[0];
        }
        FibTables t = tables;
        if (t.groupLimit == t.groupKind.length)
        {
            if (t.groupLimit >= VALUE_MASK)
            {
                throw new IllegalStateException("next-hop group capacity exhausted");
            }
            t = new FibTables(t, t.tbl8.length / TBL8_BLOCK, t.groupKind.length * 2, t.adjacencyPort.length);
            groupRefs = Arrays.copyOf(groupRefs, t.groupKind.length);
            tables = t;
        }
        return t.groupLimit++;
    }

    private int newAdjacencyId()
    {
        final long[] head = releasedAdjacencies.peek();
        if (head != null && clock.getAsLong() - head[1] >= REUSE_GRACE_NANOS)
        {
            releasedAdjacencies.poll();
            return (int)head[0];
        }
        FibTables t = tables;
        if (t.adjacencyLimit == t.adjacencyPort.length)
        {
            t = new FibTables(t, t.tbl8.length / TBL8_BLOCK, t.groupKind.length, t.adjacencyPort.length * 2);
            adjacencyRefs = Arrays.copyOf(adjacencyRefs, t.adjacencyPort.length);
            tables = t;
        }
        return t.adjacencyLimit++;
    }

    /**
     * Make {@code prefix/length} resolve to {@code group}.
     *
     * @return false when no tbl8 block is left within the configured maximum (nothing was changed).
     */
    public boolean install(final int prefix, final int length, final int group)
    {
        final FibTables current = tables;
        final FibTables result = installInto(current, prefix, length, group);
        if (result == null)
        {
            return false;
        }
        if (result != current)
        {
            tables = result;
        }
        return true;
    }

    /**
     * Install into {@code t}, or into a grown copy of it when it has no free tbl8 block.
     *
     * @return the instance written (t or the copy, which the caller publishes), or null when out of blocks.
     */
    private FibTables installInto(final FibTables target, final int prefix, final int length, final int group)
    {
        final int newEntry = entry(length, group);
        FibTables t = target;
        if (length <= 24)
        {
            writeTbl24Range(t, prefix, length, newEntry, false);
            return t;
        }
        final int index = prefix >>> 8;
        final int current = t.tbl24[index];
        if ((current & EXTENDED) != 0)
        {
            writeTbl8Range(t, (current & VALUE_MASK) * TBL8_BLOCK + (prefix & 0xFF), length, newEntry, false);
            return t;
        }
        if (t.tbl8Used * TBL8_BLOCK == t.tbl8.length)
        {
            final int blocks = t.tbl8.length / TBL8_BLOCK;
            if (blocks >= maxTbl8Blocks)
            {
                return null;
            }
            t = new FibTables(t, Math.min(maxTbl8Blocks, blocks * 2), t.groupKind.length, t.adjacencyPort.length);
        }
        // A new block starts as 256 copies of the entry it refines, gets the prefix, and only then is linked.
        final int block = t.tbl8Used++;
        Arrays.fill(t.tbl8, block * TBL8_BLOCK, (block + 1) * TBL8_BLOCK, current);
        writeTbl8Range(t, block * TBL8_BLOCK + (prefix & 0xFF), length, newEntry, false);
        INTS.setRelease(t.tbl24, index, VALID | EXTENDED | block);
        return t;
    }

    /**
     * Stop {@code prefix/length} from resolving: its entries take {@code replacementEntry}, the entry of the
     * longest covering prefix (from {@link #entry}) or 0 when none covers it.
     */
    public void remove(final int prefix, final int length, final int replacementEntry)
    {
        final FibTables t = tables;
        if (length <= 24)
        {
            writeTbl24Range(t, prefix, length, replacementEntry, true);
            return;
        }
        final int current = t.tbl24[prefix >>> 8];
        if ((current & EXTENDED) != 0)
        {
            writeTbl8Range(t, (current & VALUE_MASK) * TBL8_BLOCK + (prefix & 0xFF), length, replacementEntry,
                true);
        }
    }

    /**
     * Whether an update of a /length prefix may overwrite {@code current}: an install takes every entry that is
     * empty or less specific (or its own); a removal gives back exactly the entries the prefix owns.
     */
    private static boolean owns(final int current, final int length, final boolean removing)
    {
        return removing ? current < 0 && depthOf(current) == length : current >= 0 || depthOf(current) <= length;
    }

    /** Write the tbl24 entries (and the tbl8 blocks under them) that a prefix of length <= 24 covers. */
    private static void writeTbl24Range(final FibTables t, final int prefix, final int length, final int entry,
        final boolean removing)
    {
        final int first = length == 0 ? 0 : prefix >>> 8;
        final int end = first + (1 << (24 - length));
        for (int i = first; i < end; i++)
        {
            final int current = t.tbl24[i];
            if ((current & EXTENDED) != 0)
            {
                final int base = (current & VALUE_MASK) * TBL8_BLOCK;
                for (int j = base; j < base + TBL8_BLOCK; j++)
                {
                    if (owns(t.tbl8[j], length, removing))
                    {
                        INTS.setRelease(t.tbl8, j, entry);
                    }
                }
            }
            else if (owns(current, length, removing))
            {
                INTS.setRelease(t.tbl24, i, entry);
            }
        }
    }

    /** Write the tbl8 entries from {@code start} that a prefix longer than /24 covers. */
    private static void writeTbl8Range(final FibTables t, final int start, final int length, final int entry,
        final boolean removing)
    {
        final int end = start + (1 << (32 - length));
        for (int j = start; j < end; j++)
        {
            if (owns(t.tbl8[j], length, removing))
            {
                INTS.setRelease(t.tbl8, j, entry);
            }
        }
    }

    /**
     * Replace the tables with fresh ones built from {@code prefixes} (each {prefix, length, group}), sorted by
     * length so each install only ever overwrites less specific entries. Reclaims unused tbl8 blocks; groups and
     * adjacencies keep their ids. Built privately, published with one volatile store: readers switch at their next vector.
     *
     * @return false when the prefixes need more tbl8 blocks than allowed (the old tables stay).
     */
    public boolean rebuild(final List<int[]> prefixes)
    {
        final FibTables old = tables;
        int needed = 0;
        final java.util.HashSet<Integer> blocks = new java.util.HashSet<>();
        for (final int[] p : prefixes)
        {
            if (p[1] > 24 && blocks.add(p[0] >>> 8))
            {
                needed++;
            }
        }
        if (needed > maxTbl8Blocks)
        {
            return false;
        }
        final FibTables fresh = new FibTables(Math.max(INITIAL_TBL8_BLOCKS, Math.min(maxTbl8Blocks,
            Integer.highestOneBit(Math.max(1, needed)) * 2)), old);
        final List<int[]> sorted = new ArrayList<>(prefixes);
        sorted.sort((a, b) -> Integer.compare(a[1], b[1]));
        FibTables building = fresh;
        for (final int[] p : sorted)
        {
            building = installInto(building, p[0], p[1], p[2]);
            if (building == null)
            {
                return false;
            }
        }
        tables = building;
        return true;
    }
}
