package io.edgeplane.route;

import io.edgeplane.config.PortConfig;
import io.edgeplane.port.PortTable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A million random operations (add, replace, remove, lookup, port down/up) applied to the routing table and to
 * the naive reference; every lookup must agree. Same prefix on several interfaces, metric ties and overlapping
 * prefixes of every length are made common on purpose. Fixed seeds, so a failure reproduces.
 */
class FibDifferentialTest
{
    static PortTable ports()
    {
        return new PortTable(List.of(
            new PortConfig("Port1", 0x020000000001L, 0x0A000001, 8, 1500, 0, null, true),
            new PortConfig("Port2", 0x020000000002L, 0xAC100001, 12, 1500, 0, null, true),
            new PortConfig("Port3", 0x020000000003L, 0xC0A80001, 16, 1500, 0, null, true),
            new PortConfig("Port4", 0x020000000004L, 0x64400001, 10, 1500, 0, null, true)));
    }

    private static final int[] METRICS = {100, 100, 200, 300};

    @Test
    void shouldAgreeWithTheNaiveReferenceOverAMillionOperations()
    {
        for (final long seed : new long[] {1, 2})
        {
            run(seed, 500_000);
        }
    }

    private void run(final long seed, final int operations)
    {
        final Random random = new Random(seed);
        final PortTable ports = ports();
        final RoutingTable table = new RoutingTable(ports, 1_000_000, 1 << 14);
        final NaiveRoutes reference = new NaiveRoutes(ports);
        final int[] anchors = new int[48];
        for (int i = 0; i < anchors.length; i++)
        {
            anchors[i] = random.nextInt();
        }
        final List<int[]> added = new ArrayList<>();
        int lookups = 0;
        int mismatches = 0;
        String firstMismatch = null;
        for (int op = 0; op < operations; op++)
        {
            final int dice = random.nextInt(10_000);
            if (dice < 4500)
            {
                final int length = randomLength(random);
                final int mask = length == 0 ? 0 : -1 << (32 - length);
                final int prefix = (anchors[random.nextInt(anchors.length)] ^ random.nextInt(256)) & mask;
                final int port = random.nextInt(ports.count());
                final int hostBits = ~(-1 << (32 - ports.prefixLength(port)));
                int nextHop = (ports.address(port) & ~hostBits) | (2 + random.nextInt(6));
                if (random.nextInt(20) == 0)
                {
                    nextHop = 0;
                }
                final int metric = METRICS[random.nextInt(METRICS.length)];
                try
                {
                    table.add(port, prefix, length, nextHop, metric);
                }
                catch (final RouteException ex)
                {
                    throw new AssertionError("seed " + seed + " op " + op + ": " + ex.getMessage(), ex);
                }
                reference.add(port, prefix, length, nextHop, metric);
                added.add(new int[] {port, prefix, length});
            }
            else if (dice < 7000 && !added.isEmpty())
            {
                final int[] route = added.remove(random.nextInt(added.size()));
                assertEquals(reference.remove(route[0], route[1], route[2]), table.remove(route[0], route[1], route[2]),
                    "seed " + seed + " op " + op + ": remove result");
            }
            else if (dice < 7002)
            {
                final int port = random.nextInt(ports.count());
                ports.adminUp(port, !ports.adminUp(port));
                table.refreshPort(port);
            }
            else
            {
                final int address = random.nextInt(4) == 0 ? random.nextInt() :
                    anchors[random.nextInt(anchors.length)] ^ (random.nextInt() >>> random.nextInt(32));
                lookups++;
                final String expected = reference.lookup(address);
                final String actual = NaiveRoutes.describe(table.tables(), address);
                if (!expected.equals(actual))
                {
                    mismatches++;
                    if (firstMismatch == null)
                    {
                        firstMismatch = "seed " + seed + " op " + op + " address " +
                            io.edgeplane.proto.Ipv4Address.format(address) + ": expected " + expected + " got " + actual;
                    }
                }
            }
        }
        assertEquals(0, mismatches, firstMismatch);
        assertTrue(lookups > operations / 4, "lookups performed: " + lookups);
    }

    private static int randomLength(final Random random)
    {
        final int dice = random.nextInt(10_000);
        if (dice < 5)
        {
            return random.nextInt(8);
        }
        if (dice < 1000)
        {
            return 8 + random.nextInt(8);
        }
        return 16 + random.nextInt(17);
    }
}
