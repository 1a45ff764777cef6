package io.edgeplane.port;

import io.edgeplane.config.PortConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Run-time tunnel ports: added after the config's, retired without a trace, slots reused only after a grace. */
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
}
