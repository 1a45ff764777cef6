package io.edgeplane.timer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The worker's timers fire by its clock only, in deadline order, whatever the clock's epoch and gaps. */
class WorkerTimersTest
{
    private static final long MS = 1_000_000L;

    @Test
    void shouldFireTimersWhenTheClockPassesTheirDeadlineAndNotBefore()
    {
        final WorkerTimers timers = new WorkerTimers();
        final List<Long> fired = new ArrayList<>();
        final int owner = timers.register((cookie, now) -> fired.add(cookie));
        final long epoch = 1_700_000_000_000_000_000L; // packet time of a real capture
        timers.advanceTo(epoch);
        timers.schedule(owner, 3, epoch + 300 * MS);
        timers.schedule(owner, 1, epoch + 100 * MS);
        final long cancelled = timers.schedule(owner, 2, epoch + 200 * MS);
        timers.cancel(cancelled);
        timers.advanceTo(epoch + 99 * MS);
        timers.poll();
        assertEquals(List.of(), fired);
        timers.advanceTo(epoch + 250 * MS);
        timers.poll();
        assertEquals(List.of(1L), fired);
        timers.advanceTo(epoch + 10_000 * MS);
        timers.poll();
        assertEquals(List.of(1L, 3L), fired);
        assertEquals(0, timers.active());
    }

    @Test
    void shouldNeverMoveTheClockBackAndCatchUpAcrossLongGaps()
    {
        final WorkerTimers timers = new WorkerTimers();
        final List<Long> fired = new ArrayList<>();
        final int owner = timers.register((cookie, now) -> fired.add(now));
        timers.advanceTo(5_000 * MS);
        timers.advanceTo(1_000 * MS);
        assertEquals(5_000 * MS, timers.nanos());
        timers.schedule(owner, 7, 5_000 * MS + 7_440_000 * MS); // a TCP established timeout, 2 h 4 min
        timers.advanceTo(5_000 * MS + 7_440_001 * MS);
        int rounds = 0;
        while (fired.isEmpty() && rounds++ < 1000)
        {
            timers.poll();
        }
        assertEquals(1, fired.size());
        assertTrue(rounds < 200, "caught up in " + rounds + " polls");
    }
}
