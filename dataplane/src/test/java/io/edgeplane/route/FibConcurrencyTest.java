package io.edgeplane.route;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One writer changes routes as fast as it can (a bounded number of changes) while reader threads look up: every
 * answer must be the old or the new next hop of the prefix being changed, never a miss and never a next hop
 * that belongs to another prefix. The writer also forces tbl8 growth (copy and swap) during the run.
 */
class FibConcurrencyTest
{
    private static final int CHANGES = 200_000;
    private static final int SLOTS = 64;

    /** Gateways: slot i toggles between A(i) and B(i); its /28 more-specific (when present) uses C(i). */
    private static int a(final int i)
    {
        return 0x0A00_0000 | i << 8 | 1;
    }

    private static int b(final int i)
    {
        return 0x0A00_0000 | i << 8 | 2;
    }

    private static int c(final int i)
    {
        return 0x0A00_0000 | i << 8 | 3;
    }

    private static int prefix(final int i)
    {
        return ip("100.0.0.0") | i << 16;
    }

    @Test
    void shouldAnswerOldOrNewDuringConcurrentChanges() throws Exception
    {
        final RoutingTable table = new RoutingTable(null, 100_000, 1 << 12);
        table.add(0, ip("100.0.0.0"), 8, 0x0B000001, 100);
        for (int i = 0; i < SLOTS; i++)
        {
            table.add(0, prefix(i), 16, a(i), 100);
        }
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<String> violation = new AtomicReference<>();
        final AtomicLong lookups = new AtomicLong();
        final Thread[] readers = new Thread[2];
        for (int r = 0; r < readers.length; r++)
        {
            final int seed = r;
            readers[r] = new Thread(() ->
            {
                long count = 0;
                int x = seed * 7919 + 1;
                while (running.get() && violation.get() == null)
                {
                    final FibTables fib = table.tables();
                    for (int k = 0; k < 256; k++)
                    {
                        x = x * 1103515245 + 12345;
                        final int i = (x >>> 16) & (SLOTS - 1);
                        final int address = prefix(i) | 0x0107 | (x & 0x10) << 4;
                        final int group = fib.lookup(address);
                        if (group == FibTables.NO_ROUTE)
                        {
                            violation.compareAndSet(null, "miss for slot " + i);
                            break;
                        }
                        final int gateway = fib.adjacencyNextHop(fib.adjacency(group, 0));
                        if (gateway != a(i) && gateway != b(i) && gateway != c(i))
                        {
                            violation.compareAndSet(null, "foreign next hop " + Integer.toHexString(gateway) +
                                " for slot " + i);
                            break;
                        }
                        count++;
                    }
                }
                lookups.addAndGet(count);
            }, "fib-reader-" + r);
            readers[r].start();
        }

        final long start = System.nanoTime();
        int changes = 0;
        int extra = 0;
        while (changes < CHANGES && violation.get() == null)
        {
            final int i = changes % SLOTS;
            final int round = changes / SLOTS;
            switch (round % 3)
            {
                case 0 -> table.add(0, prefix(i), 16, (round & 1) == 0 ? b(i) : a(i), 100);
                case 1 -> table.add(0, prefix(i) | 0x0100, 28, c(i), 100);
                default -> table.remove(0, prefix(i) | 0x0100, 28);
            }
            if (changes % 20_000 == 0)
            {
                // A /25 in a fresh /24 forces new tbl8 blocks, and the table to grow by copy-and-swap.
                table.add(0, ip("100.200.0.0") | extra << 8, 25, 0x0C000001, 100);
                extra++;
            }
            changes++;
        }
        final long elapsed = System.nanoTime() - start;
        running.set(false);
        for (final Thread reader : readers)
        {
            reader.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertNull(violation.get());
        assertEquals(CHANGES, changes);
        assertTrue(lookups.get() > 0, "readers ran concurrently");
        System.out.printf("fib concurrency: %d changes in %.0f ms (%.0f changes/s), %d concurrent lookups%n",
            changes, elapsed / 1e6, changes / (elapsed / 1e9), lookups.get());
    }
}
