package io.edgeplane.stage;

import io.edgeplane.counters.DropReason;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * rpFilter per port (RFC 3704): Port1 (the internal switch) is strict, Port2 loose, Port3 off. A source is judged by
 * the route back to it, compared with an independent statement of the expectation per case.
 */
class ReversePathFilterTest
{
    private static final String CONFIG = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "rpFilter": "strict" },
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "rpFilter": "loose" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" }
          ],
          "routes": [
            { "interface": "Port2", "prefix": "0.0.0.0/0", "nextHop": "10.2.0.254" },
            { "interface": "Port1", "prefix": "172.16.0.0/16", "nextHop": "10.1.0.254" }
          ],
          "neighbors": [
            { "interface": "Port1", "ip": "10.1.0.10", "mac": "02:00:00:00:01:10" },
            { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" },
            { "interface": "Port3", "ip": "10.3.0.30", "mac": "02:00:00:00:03:30" }
          ]
        }
        """;
    private static final long[] PORT_MACS = {0x0200_0000_0101L, 0x0200_0000_0201L, 0x0200_0000_0301L};

    private static long send(final Harness harness, final int port, final String source)
    {
        return harness.receive(port, Frames.udpFrame(PORT_MACS[port], 0x0200_0000_0999L, ip(source),
            ip("10.3.0.30"), 64, 1000, 53, 8));
    }

    @Test
    void shouldFilterSourcesByTheRouteBackToThemPerPortMode() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long insideConnected = send(harness, 0, "10.1.0.10");
        final long insideRouted = send(harness, 0, "172.16.4.4");
        final long insideSpoofed = send(harness, 0, "8.8.8.8");         // routes back via Port2: strict refuses
        final long outsideAny = send(harness, 1, "8.8.8.8");            // loose: the default route is a route
        final long outsideFromInsideRange = send(harness, 1, "10.1.0.77"); // loose: a route exists (via Port1)
        final long offPort = send(harness, 2, "172.16.9.9");            // off: anything goes
        harness.flush();
        for (final long accepted : new long[] {insideConnected, insideRouted, outsideAny, outsideFromInsideRange,
            offPort})
        {
            assertNotNull(harness.sentFor(accepted), "packet " + accepted + " accepted");
        }
        assertNull(harness.sentFor(insideSpoofed));
        assertEquals(DropReason.IP4_RPF_FAILED, harness.dropFor(insideSpoofed));
        assertEquals(1, harness.snapshot().drop(DropReason.IP4_RPF_FAILED));
    }

    @Test
    void shouldRefuseALooseSourceWithNoRouteBackAtAll() throws Exception
    {
        final Harness harness = new Harness(CONFIG.replace(
            "{ \"interface\": \"Port2\", \"prefix\": \"0.0.0.0/0\", \"nextHop\": \"10.2.0.254\" },", ""));
        final long unroutable = send(harness, 1, "8.8.8.8");
        harness.flush();
        assertEquals(DropReason.IP4_RPF_FAILED, harness.dropFor(unroutable));
    }
}
