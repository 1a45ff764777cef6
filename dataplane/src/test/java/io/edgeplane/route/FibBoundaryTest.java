package io.edgeplane.route;

import io.edgeplane.port.PortTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boundary cases in the spirit of DPDK's {@code test_lpm.c}. */
class FibBoundaryTest
{
    private static final int ADDRESS = 0xAAAA_AAAA;

    private static int mask(final int length)
    {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    private static String lookup(final RoutingTable table, final int address)
    {
        return NaiveRoutes.describe(table.tables(), address);
    }

    private static RoutingTable offline()
    {
        return new RoutingTable(null, 1000, 64);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 8, 15, 16, 23, 24, 25, 31, 32})
    void shouldMatchInsideAndNotOutsideAtDepth(final int depth) throws RouteException
    {
        final RoutingTable table = offline();
        final int prefix = ADDRESS & mask(depth);
        table.add(0, prefix, depth, 0x01020304, 100);
        assertEquals("0/" + 0x01020304, lookup(table, prefix));
        assertEquals("0/" + 0x01020304, lookup(table, prefix | ~mask(depth)), "last address of the prefix");
        if (depth > 0)
        {
            assertEquals("-", lookup(table, prefix ^ (1 << (32 - depth))), "neighbouring prefix");
            assertEquals("-", lookup(table, (prefix | ~mask(depth)) + 1 == 0 ? prefix - 1 :
                (prefix | ~mask(depth)) + 1), "just past the prefix");
        }
        assertTrue(table.remove(0, prefix, depth));
        assertEquals("-", lookup(table, prefix));
        assertEquals("-", lookup(table, ADDRESS));
    }

    @Test
    void shouldFallBackStepByStepWhenRemovingFromMostSpecific() throws RouteException
    {
        final RoutingTable table = offline();
        for (int depth = 1; depth <= 32; depth++)
        {
            table.add(0, ADDRESS & mask(depth), depth, depth, 100);
            assertEquals("0/" + depth, lookup(table, ADDRESS), "after adding /" + depth);
        }
        for (int depth = 32; depth >= 1; depth--)
        {
            assertTrue(table.remove(0, ADDRESS & mask(depth), depth));
            assertEquals(depth == 1 ? "-" : "0/" + (depth - 1), lookup(table, ADDRESS), "after removing /" + depth);
            // An address that leaves the prefix at its last bit only ever matched shorter prefixes.
            final int sibling = ADDRESS ^ (1 << (32 - depth));
            assertEquals(depth == 1 ? "-" : "0/" + (depth - 1), lookup(table, sibling), "sibling of /" + depth);
        }
    }

    @Test
    void shouldKeepMoreSpecificWhenLessSpecificIsRemoved() throws RouteException
    {
        final RoutingTable table = offline();
        table.add(0, ip("10.1.0.0"), 16, 1, 100);
        table.add(0, ip("10.1.2.0"), 24, 2, 100);
        table.add(0, ip("10.1.2.64"), 26, 3, 100);
        assertTrue(table.remove(0, ip("10.1.0.0"), 16));
        assertEquals("0/2", lookup(table, ip("10.1.2.1")));
        assertEquals("0/3", lookup(table, ip("10.1.2.65")));
        assertEquals("-", lookup(table, ip("10.1.3.1")));
        assertTrue(table.remove(0, ip("10.1.2.0"), 24));
        assertEquals("-", lookup(table, ip("10.1.2.1")));
        assertEquals("0/3", lookup(table, ip("10.1.2.65")));
    }

    @Test
    void shouldSurviveAThousandAddRemoveCyclesOfOneRouteWithoutGrowing() throws RouteException
    {
        final RoutingTable table = offline();
        table.add(0, ip("10.0.0.0"), 8, 7, 100);
        for (int i = 0; i < 1000; i++)
        {
            table.add(0, ip("10.9.9.16"), 28, 9, 100);
            assertEquals("0/9", lookup(table, ip("10.9.9.17")));
            assertTrue(table.remove(0, ip("10.9.9.16"), 28));
            assertEquals("0/7", lookup(table, ip("10.9.9.17")));
        }
        assertEquals(1, table.tables().tbl8BlocksUsed());
        assertTrue(table.tables().groupCount() <= 2);
    }

    @Test
    void shouldPreferLowestMetricAndSpreadEqualMetrics() throws RouteException
    {
        final RoutingTable table = offline();
        final int prefix = ip("192.168.20.0");
        table.add(0, prefix, 24, 200, 200);
        assertEquals("0/200", lookup(table, prefix + 5));
        table.add(1, prefix, 24, 100, 100);
        assertEquals("1/100", lookup(table, prefix + 5), "metric 100 beats 200");
        table.add(2, prefix, 24, 101, 100);
        assertEquals("1/100,2/101", lookup(table, prefix + 5), "equal metrics form an ECMP group");
        table.add(1, prefix, 24, 100, 300);
        assertEquals("2/101", lookup(table, prefix + 5), "replacing the metric re-ranks");
        assertTrue(table.remove(2, prefix, 24));
        assertEquals("0/200", lookup(table, prefix + 5));
        assertEquals(2, table.userRouteCount());
    }

    @Test
    void shouldFailOverWhenAPortGoesDownAndBack() throws RouteException
    {
        final PortTable ports = FibDifferentialTest.ports();
        final RoutingTable table = new RoutingTable(ports, 100, 64);
        final int prefix = ip("203.0.113.0");
        table.add(1, prefix, 24, ip("172.16.0.9"), 100);
        table.add(2, prefix, 24, ip("192.168.0.9"), 200);
        assertEquals("1/" + ip("172.16.0.9"), lookup(table, prefix + 1));
        ports.adminUp(1, false);
        table.refreshPort(1);
        assertEquals("2/" + ip("192.168.0.9"), lookup(table, prefix + 1));
        assertEquals("-", lookup(table, ip("172.16.5.5")), "connected route of a down port is gone");
        assertEquals("local", lookup(table, ip("172.16.0.1")), "own address stays local");
        ports.adminUp(1, true);
        table.refreshPort(1);
        assertEquals("1/" + ip("172.16.0.9"), lookup(table, prefix + 1));
    }

    @Test
    void shouldWalkTheTableAsRunsThatAgreeWithLookups() throws RouteException
    {
        final RoutingTable table = offline();
        table.add(0, ip("10.0.0.0"), 8, 1, 100);
        table.add(0, ip("10.1.2.0"), 24, 2, 100);
        table.add(0, ip("10.1.2.128"), 27, 3, 100);
        table.add(0, ip("192.168.0.0"), 16, 4, 100);
        final java.util.List<long[]> runs = new java.util.ArrayList<>();
        table.tables().forEachRun((start, group) -> runs.add(new long[] {start, group}));
        assertEquals(0, runs.get(0)[0], "first run starts at 0.0.0.0");
        for (int i = 1; i < runs.size(); i++)
        {
            assertTrue(runs.get(i)[0] > runs.get(i - 1)[0] && runs.get(i)[1] != runs.get(i - 1)[1], "maximal runs");
        }
        final java.util.Random random = new java.util.Random(3);
        for (int k = 0; k < 100_000; k++)
        {
            final int address = k % 2 == 0 ? random.nextInt() : ip("10.1.2.0") + random.nextInt(512);
            int lo = 0;
            int hi = runs.size() - 1;
            while (lo < hi)
            {
                final int mid = (lo + hi + 1) >>> 1;
                if (runs.get(mid)[0] <= (address & 0xFFFF_FFFFL))
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            assertEquals(table.tables().lookup(address), (int)runs.get(lo)[1]);
        }
        assertEquals(9, runs.size(), "none, /8, /24, /27, /24, /8, none, /16, none");
    }

    @Test
    void shouldRefuseBadRoutesWithAReason()
    {
        final RoutingTable table = new RoutingTable(FibDifferentialTest.ports(), 100, 64);
        assertEquals("prefix: host bits set in 10.1.1.1/16",
            assertThrows(RouteException.class, () -> table.add(0, ip("10.1.1.1"), 16, ip("10.0.0.2"), 100))
                .getMessage());
        assertEquals("metric: 0 not in 1..9999",
            assertThrows(RouteException.class, () -> table.add(0, ip("10.1.0.0"), 16, ip("10.0.0.2"), 0))
                .getMessage());
        assertEquals("prefix: prefix length 33 not in 0..32",
            assertThrows(RouteException.class, () -> table.add(0, 0, 33, ip("10.0.0.2"), 100)).getMessage());
        assertTrue(assertThrows(RouteException.class, () -> table.add(0, ip("10.1.0.0"), 16, ip("172.16.0.2"), 100))
            .getMessage().startsWith("nextHop: 172.16.0.2 is not reachable through Port1"));
        assertEquals(0, table.userRouteCount());
    }

    @Test
    void shouldRefuseRoutesBeyondCapacityAndKeepTheTable() throws RouteException
    {
        final RoutingTable table = new RoutingTable(null, 4, 2);
        table.add(0, ip("10.0.0.0"), 8, 1, 100);
        table.add(0, ip("10.1.1.0"), 25, 2, 100);
        table.add(0, ip("10.1.2.0"), 25, 3, 100);
        final RouteException full = assertThrows(RouteException.class,
            () -> table.add(0, ip("10.1.3.0"), 25, 4, 100));
        assertEquals("forwarding table capacity exhausted", full.getMessage());
        assertEquals("0/1", lookup(table, ip("10.1.3.1")), "table intact after a refused add");
        assertEquals("0/2", lookup(table, ip("10.1.1.1")));
        assertEquals("0/3", lookup(table, ip("10.1.2.1")));
        table.add(0, ip("10.2.0.0"), 16, 5, 100);
        assertEquals("route table full (capacity 4 routes)",
            assertThrows(RouteException.class, () -> table.add(0, ip("10.3.0.0"), 16, 6, 100)).getMessage());
        assertEquals("0/1", lookup(table, ip("10.3.0.1")));
        assertEquals(4, table.userRouteCount());
        // Replacing an existing route is not an addition: allowed at capacity.
        table.add(0, ip("10.2.0.0"), 16, 7, 100);
        assertEquals("0/7", lookup(table, ip("10.2.0.1")));
    }
}
