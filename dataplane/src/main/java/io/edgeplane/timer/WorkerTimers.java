package io.edgeplane.timer;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2LongHashMap;

import java.util.concurrent.TimeUnit;

/**
 * A worker's cached clock and its timers: an Agrona {@link DeadlineTimerWheel} polled in the duty cycle, as Aeron's
 * conductor polls its timers. The clock is packet time in replay (each received packet moves it forward, so a replay
 * expires the same state at the same packet every run) and the monotonic clock live (the worker also moves it on
 * every duty cycle); it never goes back.
 * <p>
 * A timer belongs to an owner (ARP pacing, neighbor ageing, later NAT sessions) and carries a 56-bit cookie the
 * owner chooses (e.g. port and address); on expiry the owner's {@link Handler} gets the cookie. Scheduling
 * allocates only when the wheel or the cookie map grows. Components with many timers of their own (each session
 * table has its own O(1) wheel) register a {@link Poller} instead. Owned by the worker thread.
 */
public final class WorkerTimers
{
    /** Ticks of 2^20 ns (about 1 ms): timeouts here are ARP and session timeouts, seconds to hours. */
    public static final long TICK_NANOS = 1L << 20;
    public static final int TICKS_PER_WHEEL = 1024;
    public static final int POLL_LIMIT = 4096;
    public static final int MAX_TICKS_PER_POLL = 1 << 16;
    private static final long COOKIE_MASK = (1L << 56) - 1;

    /** Something with timers of its own (the session tables' wheel), polled with the clock after the wheel. */
    @FunctionalInterface
    public interface Poller
    {
        /** Fire what is due by {@code nowNanos}, at most {@code limit}; returns how many fired. */
        int poll(long nowNanos, int limit);
    }

    /** Told when one of its timers expires. */
    @FunctionalInterface
    public interface Handler
    {
        void onTimer(long cookie, long nowNanos);
    }

    private final DeadlineTimerWheel wheel =
        new DeadlineTimerWheel(TimeUnit.NANOSECONDS, 0, TICK_NANOS, TICKS_PER_WHEEL);
    private final Long2LongHashMap ownedCookies = new Long2LongHashMap(-1L);
    private final Handler[] handlers = new Handler[256];
    private final DeadlineTimerWheel.TimerHandler onExpiry = this::expire;
    private int owners;
    private Poller[] pollers = new Poller[0];
    private long nowNanos;
    private boolean started;

    /** Register an owner of timers; returns its id for {@link #schedule}. Call before traffic. */
    public int register(final Handler handler)
    {
        handlers[owners] = handler;
        return owners++;
    }

    /** Add a poller (before traffic). */
    public void poller(final Poller poller)
    {
        pollers = java.util.Arrays.copyOf(pollers, pollers.length + 1);
        pollers[pollers.length - 1] = poller;
    }

    /** The cached clock. */
    public long nanos()
    {
        return nowNanos;
    }

    /** Move the clock to {@code time} if that is later. The first time also anchors the wheel there. */
    public void advanceTo(final long time)
    {
        if (!started && wheel.timerCount() == 0)
        {
            started = true;
            nowNanos = time;
            wheel.resetStartTime(time);
            wheel.currentTickTime(time);
            return;
        }
        started = true; // timers were set before the first time came (another worker's news): keep the wheel's
        if (time > nowNanos)
        {
            nowNanos = time;
        }
    }

    /**
     * @return the timer id, for {@link #cancel}.
     */
    public long schedule(final int owner, final long cookie, final long deadlineNanos)
    {
        final long id = wheel.scheduleTimer(Math.max(deadlineNanos, nowNanos));
        ownedCookies.put(id, (long)owner << 56 | (cookie & COOKIE_MASK));
        return id;
    }

    public boolean cancel(final long timerId)
    {
        ownedCookies.remove(timerId);
        return wheel.cancelTimer(timerId);
    }

    /** Timers scheduled and not yet expired or cancelled. */
    public long active()
    {
        return wheel.timerCount();
    }

    /**
     * Fire the timers due by the cached clock, at most {@link #POLL_LIMIT} and at most {@link #MAX_TICKS_PER_POLL}
     * ticks of the wheel per call (a long quiet gap in a trace is caught up over a few calls); returns how many
     * fired.
     */
    public int poll()
    {
        if (!started)
        {
            return 0;
        }
        int fired = 0;
        if (wheel.timerCount() == 0)
        {
            wheel.currentTickTime(nowNanos);
        }
        else
        {
            for (int ticks = 0; ticks < MAX_TICKS_PER_POLL && fired < POLL_LIMIT &&
                wheel.currentTickTime() <= nowNanos; ticks++)
            {
                fired += wheel.poll(nowNanos, onExpiry, POLL_LIMIT - fired);
            }
        }
        for (final Poller poller : pollers)
        {
            fired += poller.poll(nowNanos, POLL_LIMIT);
        }
        return fired;
    }

    private boolean expire(final TimeUnit unit, final long now, final long timerId)
    {
        final long owned = ownedCookies.remove(timerId);
        if (owned != -1L)
        {
            handlers[(int)(owned >>> 56)].onTimer(owned & COOKIE_MASK, nowNanos);
        }
        return true;
    }
}
