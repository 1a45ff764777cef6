package io.edgeplane.route;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
 * are reclaimed by the occasional full rebuild. Not thread safe: the owner ({@link RoutingTable}) serialises calls.
 */
public final class Fib
{
    private static final int INITIAL_TBL8_BLOCKS = 64;
    private static final int INITIAL_GROUPS = 256;
    private static final int INITIAL_MEMBERS = 1024;

    private final int maxTbl8Blocks;
    private volatile FibTables tables;
    private final Map<List<Integer>, Integer> groupIds = new HashMap<>();

    public Fib(final int maxTbl8Blocks)
    {
        this.maxTbl8Blocks = maxTbl8Blocks;
        this.tables = new FibTables(Math.min(INITIAL_TBL8_BLOCKS, maxTbl8Blocks), INITIAL_GROUPS, INITIAL_MEMBERS);
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
     * The id of the group with these members (interned: equal member lists share one id; ids are never reused).
     * Members are (port, gateway) pairs in a canonical order chosen by the caller.
     */
    public int group(final int kind, final int[] ports, final int[] gateways)
    {
        final List<Integer> key = new ArrayList<>(1 + ports.length * 2);
        key.add(kind);
        for (int i = 0; i < ports.length; i++)
        {
            key.add(ports[i]);
            key.add(gateways[i]);
        }
        final Integer existing = groupIds.get(key);
        if (existing != null)
        {
            return existing;
        }
        FibTables t = tables;
        if (t.groupCount == t.groupKind.length || t.memberCount + ports.length > t.memberPort.length)
        {
            if (t.groupCount >= VALUE_MASK)
            {
                throw new IllegalStateException("next-hop group capacity exhausted");
            }
            t = new FibTables(t, t.tbl8.length / TBL8_BLOCK, t.groupKind.length * 2,
                Math.max(t.memberPort.length * 2, t.memberCount + ports.length));
            tables = t;
        }
        final int id = t.groupCount;
        final int start = t.memberCount;
        for (int i = 0; i < ports.length; i++)
        {
            t.memberPort[start + i] = ports[i];
            t.memberGateway[start + i] = gateways[i];
        }
        t.groupKind[id] = kind;
        t.groupStart[id] = start;
        t.groupSize[id] = ports.length;
        t.memberCount = start + ports.length;
        t.groupCount = id + 1;
        groupIds.put(key, id);
        return id;
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
            t = new FibTables(t, Math.min(maxTbl8Blocks, blocks * 2), t.groupKind.length, t.memberPort.length);
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
     * length so each install only ever overwrites less specific entries. Reclaims unused tbl8 blocks and groups
     * keep their ids. Built privately, published with one volatile store: readers switch at their next vector.
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
            Integer.highestOneBit(Math.max(1, needed)) * 2)), old.groupKind.length, old.memberPort.length);
        System.arraycopy(old.groupKind, 0, fresh.groupKind, 0, old.groupCount);
        System.arraycopy(old.groupStart, 0, fresh.groupStart, 0, old.groupCount);
        System.arraycopy(old.groupSize, 0, fresh.groupSize, 0, old.groupCount);
        System.arraycopy(old.memberPort, 0, fresh.memberPort, 0, old.memberCount);
        System.arraycopy(old.memberGateway, 0, fresh.memberGateway, 0, old.memberCount);
        fresh.groupCount = old.groupCount;
        fresh.memberCount = old.memberCount;
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
