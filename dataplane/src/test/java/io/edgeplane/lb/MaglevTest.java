package io.edgeplane.lb;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Maglev's three promises, measured: balance (entries per backend), minimal disruption (entries that change owner
 * when a backend goes or comes, against the 1/N ideal), and identical tables for identical backend sets.
 */
class MaglevTest
{
    private static Maglev.Backend[] backends(final int n, final int seed)
    {
        final Random random = new Random(seed);
        final Maglev.Backend[] backends = new Maglev.Backend[n];
        for (int i = 0; i < n; i++)
        {
            backends[i] = new Maglev.Backend(0x0A00_0000 | i << 8 | random.nextInt(256), 8080, 1);
        }
        return backends;
    }

    private static int[] counts(final int[] table, final int n)
    {
        final int[] counts = new int[n];
        for (final int entry : table)
        {
            counts[entry]++;
        }
        return counts;
    }

    @Test
    void everyBackendOwnsAnEqualShareWithinOneEntry()
    {
        for (final int n : new int[] {1, 2, 3, 10, 100, 1000})
        {
            final int[] table = Maglev.build(backends(n, n), Maglev.DEFAULT_SIZE);
            final int[] counts = counts(table, n);
            final int min = Arrays.stream(counts).min().orElseThrow();
            final int max = Arrays.stream(counts).max().orElseThrow();
            assertTrue(max - min <= 1, n + " backends: " + min + ".." + max);
            assertEquals(Maglev.DEFAULT_SIZE, Arrays.stream(counts).sum());
        }
    }

    @Test
    void weightsSetTheShares()
    {
        final Maglev.Backend[] backends = {new Maglev.Backend(0x0A040002, 80, 1),
            new Maglev.Backend(0x0A040003, 80, 2), new Maglev.Backend(0x0A040004, 80, 1)};
        final int[] counts = counts(Maglev.build(backends, Maglev.DEFAULT_SIZE), 3);
        // Sorted order is by address: .2 (1), .3 (2), .4 (1).
        assertEquals(2.0, counts[1] / (double)counts[0], 0.01);
        assertEquals(counts[0], counts[2], 2);
    }

    @Test
    void theSameBackendSetGivesTheSameTableInAnyOrder()
    {
        final Maglev.Backend[] backends = backends(50, 7);
        final List<Maglev.Backend> shuffled = new ArrayList<>(Arrays.asList(backends));
        Collections.shuffle(shuffled, new Random(1));
        assertArrayEquals(Maglev.build(backends, Maglev.DEFAULT_SIZE),
            Maglev.build(shuffled.toArray(Maglev.Backend[]::new), Maglev.DEFAULT_SIZE));
    }

    /** Entries whose backend changed, other than those of the backend that went (or that the newcomer took). */
    private static double disruption(final Maglev.Backend[] before, final Maglev.Backend[] after)
    {
        final int[] a = Maglev.build(before, Maglev.DEFAULT_SIZE);
        final int[] b = Maglev.build(after, Maglev.DEFAULT_SIZE);
        final Maglev.Backend[] sa = Maglev.sorted(before);
        final Maglev.Backend[] sb = Maglev.sorted(after);
        int moved = 0;
        for (int i = 0; i < a.length; i++)
        {
            if (!sa[a[i]].equals(sb[b[i]]))
            {
                moved++;
            }
        }
        return moved / (double)a.length;
    }

    @Test
    void removingOrAddingOneOfNMovesCloseToOneNth()
    {
        for (final int n : new int[] {3, 10, 100})
        {
            final Maglev.Backend[] all = backends(n, 100 + n);
            final Maglev.Backend[] without = Arrays.copyOfRange(all, 1, n);
            final double ideal = 1.0 / n;
            final double removal = disruption(all, without);
            final double addition = disruption(without, all);
            // The paper's measurements: a little above the ideal; the departed backend's share always moves.
            assertTrue(removal >= ideal * 0.95 && removal <= ideal * 1.5 + 0.005,
                n + " backends, one removed: " + removal + " of entries moved (ideal " + ideal + ")");
            assertTrue(addition >= ideal * 0.95 && addition <= ideal * 1.5 + 0.005,
                n + " backends, one added: " + addition + " of entries moved (ideal " + ideal + ")");
        }
    }

    @Test
    void badInputIsRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> Maglev.build(backends(3, 1), 65_536));
        final Maglev.Backend b = new Maglev.Backend(1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> Maglev.build(new Maglev.Backend[] {b, b}, 251));
        assertThrows(IllegalArgumentException.class, () -> new Maglev.Backend(1, 1, 0));
        assertEquals(0, Maglev.build(new Maglev.Backend[0], 251).length);
        assertTrue(Maglev.entry(-1, 251) >= 0);
    }
}
