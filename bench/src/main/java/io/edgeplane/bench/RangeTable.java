package io.edgeplane.bench;

import io.edgeplane.route.FibTables;

import java.util.Arrays;

/**
 * A DXR-style lookup table (Zec, Rizzo, Mikuc: "DXR: towards a billion routing lookups per second in software"),
 * built here only to measure the alternative to DIR-24-8 side by side. A 2^16-entry direct table indexed by the
 * top 16 bits holds either the answer (the whole /16 maps to one group) or the position and size of that chunk's
 * ranges; a lookup then binary-searches the chunk's sorted range starts. Packed: range = start(16) | group(16).
 * Built from a {@link FibTables} snapshot; read-only (no incremental updates: that is the price of the format).
 */
final class RangeTable
{
    private static final long DIRECT = 1L << 63;

    private final long[] chunks = new long[1 << 16];
    private final int[] ranges;

    RangeTable(final FibTables fib)
    {
        final int[] starts = new int[1 << 22];
        final int[] groups = new int[1 << 22];
        final int[] count = {0};
        final int[][] grow = {starts, groups};
        fib.forEachRun((start, group) ->
        {
            if (group >= 0xFFFF)
            {
                throw new IllegalStateException("the packed range format holds at most 65535 groups");
            }
            if (count[0] == grow[0].length)
            {
                grow[0] = Arrays.copyOf(grow[0], count[0] * 2);
                grow[1] = Arrays.copyOf(grow[1], count[0] * 2);
            }
            grow[0][count[0]] = (int)start;
            grow[1][count[0]] = group;
            count[0]++;
        });
        final int runs = count[0];
        final int[] runStart = grow[0];
        final int[] runGroup = grow[1];
        final int[] packed = new int[runs + (1 << 16)];
        int used = 0;
        int run = 0;
        int carried = FibTables.NO_ROUTE;
        for (int chunk = 0; chunk < 1 << 16; chunk++)
        {
            final long chunkStart = (long)chunk << 16;
            final int first = used;
            // The run in force at the chunk's first address, then every run starting inside the chunk.
            while (run < runs && (runStart[run] & 0xFFFF_FFFFL) < chunkStart)
            {
                carried = runGroup[run++];
            }
            if (run == runs || (runStart[run] & 0xFFFF_FFFFL) != chunkStart)
            {
                packed[used++] = (carried & 0xFFFF);
            }
            while (run < runs && (runStart[run] & 0xFFFF_FFFFL) < chunkStart + (1 << 16))
            {
                carried = runGroup[run];
                packed[used++] = (runStart[run] & 0xFFFF) << 16 | (carried & 0xFFFF);
                run++;
            }
            final int size = used - first;
            chunks[chunk] = size == 1 ? DIRECT | (packed[first] & 0xFFFF) : (long)first << 32 | size;
            if (size == 1)
            {
                used = first;
            }
        }
        ranges = Arrays.copyOf(packed, used);
    }

    /** @return the group (16 bits; 0xFFFF means no route). */
    int lookup(final int address)
    {
        final long chunk = chunks[address >>> 16];
        if (chunk < 0)
        {
            return (int)chunk & 0xFFFF;
        }
        // Branch-free lower bound (the conditional move form): no mispredicted branches on random keys.
        int low = (int)(chunk >>> 32);
        int size = (int)chunk;
        final int key = address & 0xFFFF;
        while (size > 1)
        {
            final int half = size >>> 1;
            low = (ranges[low + half] >>> 16) <= key ? low + half : low;
            size -= half;
        }
        return ranges[low] & 0xFFFF;
    }

    long memoryBytes()
    {
        return chunks.length * 8L + ranges.length * 4L;
    }
}
