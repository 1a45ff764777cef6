package io.edgeplane.route;

import io.edgeplane.config.ConfigLoader;
import io.edgeplane.port.PortTable;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Groups and adjacencies no longer referenced by any prefix are freed, and their ids are reused only after the grace
 * period, so a churn of next hops neither grows the tables forever nor hands a worker a recycled id mid-vector.
 */
class AdjacencyReclamationTest
{
    private static final long GRACE = Fib.REUSE_GRACE_NANOS;

    private final AtomicLong clock = new AtomicLong(1_000);

    private RoutingTable table() throws Exception
    {
        final PortTable ports = new PortTable(ConfigLoader.parse("""
            { "ports": [
              { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/16" },
              { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/16" } ] }
            """).ports());
        return new RoutingTable(ports, 100_000, 256, clock::get);
    }

    /** 500 prefixes, each through its own next hop (own adjacency, own group), then all removed. */
    private static void churn(final RoutingTable table, final int firstHop) throws RouteException
    {
        for (int i = 0; i < 500; i++)
        {
            table.add(1, ip("172.16.0.0") + (i << 8), 24, ip("10.2.0.0") + firstHop + i, 100);
        }
        for (int i = 0; i < 500; i++)
        {
            assertTrue(table.remove(1, ip("172.16.0.0") + (i << 8), 24));
        }
    }

    @Test
    void shouldFreeGroupsAndAdjacenciesWithTheirLastRoute() throws Exception
    {
        final RoutingTable table = table();
        final int groups = table.tables().groupCount();
        final int adjacencies = table.adjacencyCount();
        table.add(1, ip("172.16.0.0"), 24, ip("10.2.0.9"), 100);
        table.add(1, ip("172.17.0.0"), 24, ip("10.2.0.9"), 100);
        assertEquals(groups + 1, table.tables().groupCount(), "two prefixes, one next hop: one group");
        assertEquals(adjacencies + 1, table.adjacencyCount());
        table.add(0, ip("172.16.0.0"), 24, ip("10.1.0.9"), 100);
        assertEquals(groups + 2, table.tables().groupCount(), "the ECMP pair is a group of its own");
        assertEquals(adjacencies + 2, table.adjacencyCount());
        table.remove(0, ip("172.16.0.0"), 24);
        table.remove(1, ip("172.16.0.0"), 24);
        assertEquals(groups + 1, table.tables().groupCount());
        table.remove(1, ip("172.17.0.0"), 24);
        assertEquals(groups, table.tables().groupCount());
        assertEquals(adjacencies, table.adjacencyCount());
    }

    @Test
    void shouldReuseIdsOnlyAfterTheGracePeriod() throws Exception
    {
        final RoutingTable table = table();
        final int systemGroups = table.tables().groupCount();
        churn(table, 1000);
        final int limit = table.tables().groupIdLimit();
        churn(table, 2000);
        assertTrue(table.tables().groupIdLimit() > limit, "within the grace period no id is reused");
        final int grown = table.tables().groupIdLimit();
        clock.addAndGet(GRACE);
        for (int round = 0; round < 5; round++)
        {
            churn(table, 3000 + round * 500);
            clock.addAndGet(GRACE);
        }
        assertEquals(grown, table.tables().groupIdLimit(), "after the grace period ids are reused");
        assertEquals(systemGroups, table.tables().groupCount(), "only the ports' own groups remain");
    }
}
