package io.edgeplane.stage;

/**
 * A token bucket as GCRA (the "virtual scheduling" form): a packet at time {@code now} conforms when the
 * theoretical arrival time is no further ahead than the burst tolerance. Clocked by packet timestamps, so a
 * replay of the same trace makes the same decisions. One instance per worker; not thread safe.
 */
final class RateLimiter
{
    private final long intervalNanos;
    private final long toleranceNanos;
    private long theoreticalArrival = Long.MIN_VALUE;

    RateLimiter(final int perSecond, final int burst)
    {
        this.intervalNanos = 1_000_000_000L / Math.max(1, perSecond);
        this.toleranceNanos = intervalNanos * Math.max(0, burst - 1);
    }

    boolean admit(final long now)
    {
        long tat = theoreticalArrival;
        if (tat < now)
        {
            tat = now;
        }
        if (tat - now > toleranceNanos)
        {
            return false;
        }
        theoreticalArrival = tat + intervalNanos;
        return true;
    }
}
