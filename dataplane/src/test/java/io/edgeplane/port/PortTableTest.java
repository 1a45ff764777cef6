package io.edgeplane.port;

import io.edgeplane.config.PortConfig;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Run-time tunnel ports: added after the config's, retired without a trace, slots reused only after a grace; the
 * local-address set against a {@link HashSet} through random additions and removals.
 */
class PortTableTest
{
    private static PortConfig tunnel(final String name, final int vni, final String ipv4)
    {
        return PortConfig.fromJson(name, "vxlan", "02:00:00:00:09:01", ipv4, null, null, null, null, null, null, vni,
            null, "Port1", null);
    }

    private static PortTable table()
    {
        return new PortTable(List.of(new PortConfig("Port1", 0x020000000001L, 0x0A010001, 24, 1500, 0, null, true)));
    }

    @Test
    void shouldReuseARetiredSlotOnlyAfterTheGracePeriod() throws Exception
    {
        final PortTable ports = table();
        final int first = ports.addTunnel(tunnel("vxlan1", 1, "192.168.1.1/24"));
        assertEquals(1, first);
        assertEquals(first, ports.indexOf("vxlan1"));
        assertEquals(first, ports.connectedPortFor(0xC0A80102));
        ports.retire(first);
        assertEquals(-1, ports.indexOf("vxlan1"));
        assertEquals(-1, ports.connectedPortFor(0xC0A80102), "a retired tunnel's subnet is no longer on link");

        final int second = ports.addTunnel(tunnel("vxlan2", 2, "192.168.2.1/24"));
        assertNotEquals(first, second, "a just-retired slot may still be named by a vector in flight");
        ports.retire(second);
        Thread.sleep(1_100);
        final int third = ports.addTunnel(tunnel("vxlan3", 3, "192.168.3.1/24"));
        assertEquals(first, third);
        assertEquals(3, ports.count());
        assertEquals(third, ports.indexOf("vxlan3"));
    }

    @Test
    void shouldRefuseATunnelWhenEverySlotIsLive()
    {
        final PortTable ports = table();
        for (int i = 1; i < PortTable.CAPACITY; i++)
        {
            ports.addTunnel(tunnel("vxlan" + i, i, "192.168." + (i & 0xFF) + ".1/24"));
        }
        assertThrows(IllegalStateException.class, () -> ports.addTunnel(tunnel("extra", 999, "10.9.9.1/24")));
    }

    @Test
    void theLocalAddressSetAgreesWithAHashSetThroughAddsAndRemoves()
    {
        final PortTable ports = table();
        final Set<Integer> oracle = new HashSet<>(List.of(0x0A010001));
        final Random random = new Random(11);
        final int[] candidates = new int[600];
        for (int i = 0; i < candidates.length; i++)
        {
            // Clustered like a NAT pool (consecutive addresses), plus scattered ones and the extremes.
            candidates[i] = i < 300 ? 0x0A020064 + i : i == 300 ? -1 : i == 301 ? 1 : random.nextInt();
        }
        for (int step = 0; step < 20_000; step++)
        {
            final int ip = candidates[random.nextInt(candidates.length)];
            if (ip == 0x0A010001)
            {
                continue;
            }
            if (random.nextInt(3) > 0)
            {
                assertEquals(oracle.add(ip), ports.addAddress(0, ip));
            }
            else
            {
                assertEquals(oracle.remove(ip), ports.removeAddress(0, ip));
            }
            if (step % 97 == 0)
            {
                for (final int probe : candidates)
                {
                    assertEquals(oracle.contains(probe), ports.isLocalAddress(probe), () -> Integer.toHexString(probe));
                }
                assertFalse(ports.isLocalAddress(0));
            }
        }
        assertTrue(oracle.size() > 100, "the set grew past a few addresses: " + oracle.size());
    }
}
