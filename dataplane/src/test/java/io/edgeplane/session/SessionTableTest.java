package io.edgeplane.session;

import io.edgeplane.timer.WorkerTimers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session table against a naive model (a {@link HashMap} of tuples), SipHash against the reference vectors of
 * its paper, and the expiry rules.
 */
class SessionTableTest
{
    private static final long SEC = 1_000_000_000L;

    @Test
    void sipHashShouldMatchTheReferenceVectorsOfSipHash24()
    {
        // Key 00 01 .. 0f; messages 00 01 .. (n - 1): SipHash-2-4 reference outputs for n = 0, 8 and 15.
        final SipHash sip = new SipHash(0x0706050403020100L, 0x0F0E0D0C0B0A0908L, 2, 4);
        assertEquals(0x726fdb47dd0e0e31L, sip.hash(0, 0, 0, 0L));
        assertEquals(0x93f5f5799a932462L, sip.hash(0x0706050403020100L, 0, 1, 8L << 56));
        assertEquals(0xa129ca6149be45e5L, sip.hash(0x0706050403020100L, 0, 1, 15L << 56 | 0x0E0D0C0B0A0908L));
    }

    @Test
    void theStraightLineSipHash13ShouldEqualTheGenericRounds()
    {
        final Random random = new Random(3);
        for (int i = 0; i < 10_000; i++)
        {
            final long k0 = random.nextLong();
            final long k1 = random.nextLong();
            final long m0 = random.nextLong();
            final long m1 = random.nextLong();
            assertEquals(new SipHash(k0, k1, 1, 3).hash(m0, m1, 2, 16L << 56), SipHash.sipHash13(k0, k1).hash16(m0, m1));
        }
    }

    private record Tuple(int protocol, int source, int sourcePort, int destination, int destinationPort)
    {
    }

    @Test
    void shouldAgreeWithANaiveModelThroughRandomCreatesAndDeletes()
    {
        // A tiny address space makes long probe runs, so backward-shift deletion is exercised hard.
        final int capacity = 2048;
        final SessionTable table = new SessionTable(capacity, 1, 2, 3);
        final Map<Tuple, Integer> model = new HashMap<>();
        final List<Integer> live = new ArrayList<>();
        final Map<Integer, Tuple[]> tuples = new HashMap<>();
        final Random random = new Random(42);
        for (int step = 0; step < 200_000; step++)
        {
            if (live.size() < capacity && (live.isEmpty() || random.nextInt(3) != 0))
            {
                final Tuple original = new Tuple(17, 0x0A040000 | random.nextInt(16), 1000 + random.nextInt(64),
                    0x08080800 | random.nextInt(4), 53);
                final Tuple reply = new Tuple(17, original.destination(), 53, 0x0A020001, 2000 + random.nextInt(64));
                if (model.containsKey(original) || model.containsKey(reply))
                {
                    continue;
                }
                final int s = table.createSession(17, original.source(), original.sourcePort(),
                    original.destination(), original.destinationPort(), reply.source(), reply.sourcePort(),
                    reply.destination(), reply.destinationPort(), -1, 0, step);
                assertTrue(s >= 0);
                model.put(original, s << 1);
                model.put(reply, s << 1 | 1);
                tuples.put(s, new Tuple[] {original, reply});
                live.add(s);
            }
            else
            {
                final int s = live.remove(random.nextInt(live.size()));
                table.delete(s);
                for (final Tuple t : tuples.remove(s))
                {
                    model.remove(t);
                }
            }
            if (step % 5000 == 0)
            {
                for (final Map.Entry<Tuple, Integer> e : model.entrySet())
                {
                    final Tuple t = e.getKey();
                    assertEquals(e.getValue(), table.lookup(t.protocol(), t.source(), t.sourcePort(),
                        t.destination(), t.destinationPort()), "step " + step + " " + t);
                }
                assertEquals(live.size(), table.size());
            }
        }
        // Tuples never created, and ones deleted, are not found.
        for (int i = 0; i < 1000; i++)
        {
            final Tuple t = new Tuple(17, 0x0A040000 | random.nextInt(16), 1000 + random.nextInt(64),
                0x08080800 | random.nextInt(4), 53);
            final Integer expected = model.get(t);
            assertEquals(expected == null ? SessionTable.NONE : expected,
                table.lookup(17, t.source(), t.sourcePort(), t.destination(), t.destinationPort()));
        }
    }

    @Test
    void mappingsShouldNeverShareAnOutsidePortAndShouldGoWithTheirLastSession()
    {
        final SessionTable table = new SessionTable(1024, 5, 6, 7);
        final Set<Integer> ports = new HashSet<>();
        final int[] m = new int[100];
        for (int i = 0; i < 100; i++)
        {
            // Every inside endpoint asks for port 1500 (port preservation); only the first gets it.
            m[i] = table.createMapping(6, 0x0A040000 + i, 1500, 0x0A020001, 1500, 1699);
            assertTrue(m[i] >= 0);
            assertTrue(ports.add(table.mappingOutsidePort(m[i])), "port given twice");
            assertTrue(table.mappingOutsidePort(m[i]) >= 1500 && table.mappingOutsidePort(m[i]) <= 1699);
        }
        assertEquals(1500, table.mappingOutsidePort(m[0]));
        for (int i = 100; i < 200; i++)
        {
            assertTrue(table.createMapping(6, 0x0A040000 + i, 1500, 0x0A020001, 1500, 1699) >= 0);
        }
        assertEquals(SessionTable.NO_PORT, table.createMapping(6, 0x0A04FFFF, 1500, 0x0A020001, 1500, 1699));
        // A different protocol has its own ports.
        assertTrue(table.createMapping(17, 0x0A04FFFF, 1500, 0x0A020001, 1500, 1699) >= 0);

        final int s = table.createSession(6, 0x0A040000, 1500, 0x08080808, 80, 0x08080808, 80, 0x0A020001, 1500,
            m[0], 0, 0);
        assertEquals(1, table.mappingSessions(m[0]));
        table.delete(s);
        assertEquals(SessionTable.NONE, table.mappingByInside(6, 0x0A040000, 1500));
        assertEquals(SessionTable.NONE, table.mappingByOutside(6, 0x0A020001, 1500));
        assertTrue(table.createMapping(6, 0x0A04FFFF, 1500, 0x0A020001, 1500, 1699) >= 0, "the port is free again");
    }

    @Test
    void shouldExpireIdleSessionsByTheirTimeoutAndKeepRefreshedOnes()
    {
        final WorkerTimers timers = new WorkerTimers();
        final SessionTable table = new SessionTable(64, 1, 2, 3);
        timers.poller(table::pollExpiry);
        timers.advanceTo(0);
        final int udp = table.createSession(17, 1, 1000, 2, 53, 2, 53, 3, 1000, -1, 0, 0);
        final int refreshed = table.createSession(17, 1, 1001, 2, 53, 2, 53, 3, 1001, -1, 0, 0);
        final int tcp = table.createSession(6, 1, 1002, 2, 80, 2, 80, 3, 1002, -1, 0, 0);
        table.tcpFlags(tcp, SessionTable.ORIGINAL, 0x02);
        table.tcpFlags(tcp, SessionTable.REPLY, 0x12);
        final int opening = table.createSession(6, 1, 1003, 2, 80, 2, 80, 3, 1003, -1, 0, 0);
        table.tcpFlags(opening, SessionTable.ORIGINAL, 0x02);

        for (long t = 10; t <= 299; t += 10)
        {
            timers.advanceTo(t * SEC);
            timers.poll();
            table.touch(refreshed, t * SEC);
        }
        assertTrue(table.inUse(udp), "UDP lives its 300 s");
        assertTrue(table.inUse(opening) == false, "a half-open TCP session goes after 240 s");
        timers.advanceTo(302 * SEC);
        timers.poll();
        assertTrue(!table.inUse(udp));
        assertTrue(table.inUse(refreshed));
        timers.advanceTo(7400 * SEC);
        timers.poll();
        assertTrue(table.inUse(tcp), "an established TCP session lives 7440 s idle");
        assertTrue(!table.inUse(refreshed));
        timers.advanceTo(7442 * SEC);
        timers.poll();
        assertTrue(!table.inUse(tcp));
        assertEquals(0, table.size());
        assertEquals(4, table.expired());
        assertNotEquals(0, table.created());
    }

    @Test
    void aBurstOfSessionsExpiresOnTimeWithinThePollLimitAndAfterAClockJump()
    {
        final int n = 50_000;
        final SessionTable table = new SessionTable(n, 1, 2, 3);
        for (int i = 0; i < n; i++)
        {
            // All made in the same nanosecond: one spoke of the wheel holds them all.
            table.createSession(17, 0x0A040000 | i, 1000, 2, 53, 2, 53, 3, 1000 + i % 60000, -1, 0, 5 * SEC);
        }
        assertEquals(n, table.scheduled());
        table.pollExpiry(5 * SEC, 4096);
        assertEquals(0, table.pollExpiry(304 * SEC, 4096), "nothing before 300 s idle");
        assertEquals(n, table.size());
        int fired = 0;
        int calls = 0;
        for (int got; (got = table.pollExpiry(306 * SEC, 4096)) > 0; calls++)
        {
            assertTrue(got <= 4096, "the limit holds: " + got);
            fired += got;
        }
        assertEquals(n, fired);
        assertEquals(0, table.size());
        assertEquals(0, table.scheduled());
        assertTrue(calls >= n / 4096, "spread over calls: " + calls);

        // Sessions made after a long quiet gap (more than a turn of the wheel) still expire on time.
        final int late = table.createSession(17, 1, 1, 2, 2, 2, 2, 3, 1, -1, 0, 1_000 * SEC);
        table.pollExpiry(1_000 * SEC, 4096);
        table.pollExpiry(1_299 * SEC, 4096);
        assertTrue(table.inUse(late));
        table.pollExpiry(1_301 * SEC, 4096);
        assertTrue(!table.inUse(late), "gone a second after its 300 s");
    }

    @Test
    void closingAnEstablishedTcpSessionBringsItsTimerForward()
    {
        final SessionTable table = new SessionTable(8, 1, 2, 3);
        table.pollExpiry(0, 100);
        final int tcp = table.createSession(6, 1, 1002, 2, 80, 2, 80, 3, 1002, -1, 0, 0);
        table.tcpFlags(tcp, SessionTable.ORIGINAL, 0x02);
        table.tcpFlags(tcp, SessionTable.REPLY, 0x12);
        table.touch(tcp, 100 * SEC);
        table.pollExpiry(400 * SEC, 100);
        assertTrue(table.inUse(tcp), "established: 7440 s");
        table.touch(tcp, 500 * SEC);
        table.tcpFlags(tcp, SessionTable.ORIGINAL, 0x11); // FIN
        table.pollExpiry(739 * SEC, 100);
        assertTrue(table.inUse(tcp));
        table.pollExpiry(741 * SEC, 100);
        assertTrue(!table.inUse(tcp), "closing: gone 240 s after its last packet, not 7440 s");
    }
}
