package io.edgeplane.trace;

import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;

import static io.edgeplane.testing.Frames.ip;
import static io.edgeplane.testing.Harness.CLIENT_MAC;
import static io.edgeplane.testing.Harness.PORT1_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketTracerTest
{
    private static byte[] udpTo(final String destination)
    {
        return Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("10.1.0.10"), ip(destination), 64, 1000, 2000, 8);
    }

    @Test
    void shouldTraceOnlyTheFirstPackets() throws Exception
    {
        final Harness harness = new Harness();
        harness.dataplane.tracer().traceFirst(2);
        for (int i = 0; i < 5; i++)
        {
            harness.receive(0, udpTo("10.2.0.20"));
        }
        harness.flush();
        final String trace = harness.dataplane.formatTrace();
        assertTrue(trace.startsWith("packet 1\n  ethernet-input"), trace);
        assertTrue(trace.contains("packet 2\n"), trace);
        assertFalse(trace.contains("packet 3\n"), trace);
        assertTrue(trace.matches("(?s).*ip4-lookup +10\\.2\\.0\\.20 via 10\\.2\\.0\\.20 Port2 .*"), trace);
        assertTrue(trace.matches("(?s).*interface-output +tx Port2 len 50\n.*"), trace);
        assertEquals(2 * 5, harness.dataplane.tracer().count(), "five stages per forwarded packet");
    }

    @Test
    void shouldTraceOnlyPacketsOfTheFilteredAddress() throws Exception
    {
        final Harness harness = new Harness();
        harness.dataplane.tracer().traceAddress(ip("10.3.0.30"), 10);
        harness.receive(0, udpTo("10.2.0.20"));
        harness.receive(0, udpTo("10.3.0.30"));
        harness.receive(0, udpTo("10.2.0.20"));
        harness.receive(0, udpTo("8.8.8.8"));
        harness.flush();
        final String trace = harness.dataplane.formatTrace();
        assertTrue(trace.startsWith("packet 2\n"), trace);
        assertFalse(trace.contains("packet 1\n") || trace.contains("packet 3\n") || trace.contains("packet 4\n"),
            trace);
        assertTrue(trace.contains("drop ip4-mtu-exceeded") || trace.contains("interface-output"), trace);
    }

    @Test
    void shouldShowTheDropReasonOfATracedPacket() throws Exception
    {
        final Harness harness = new Harness();
        harness.dataplane.tracer().traceFirst(1);
        final byte[] bad = udpTo("10.2.0.20");
        bad[14 + 10] ^= 0x40;
        harness.receive(0, bad);
        harness.flush();
        final String trace = harness.dataplane.formatTrace();
        assertTrue(trace.contains("ip4-input") && trace.contains("drop ip4-bad-checksum"), trace);
    }
}
