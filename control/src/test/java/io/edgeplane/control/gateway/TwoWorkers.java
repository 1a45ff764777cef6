package io.edgeplane.control.gateway;

import io.edgeplane.stage.FlowDispatch;

import java.util.List;

/** The spread the two-worker netns tests fix, so that the replies they check really cross workers. */
final class TwoWorkers
{
    private TwoWorkers()
    {
    }

    /**
     * The first odd multiplier (the gateway makes every multiplier odd) that spreads {@code host} to the other worker
     * than each of {@code others}.
     */
    static int multiplierSeparating(final int host, final int... others)
    {
        for (int m = 1; m < 1 << 20; m += 2)
        {
            final int worker = FlowDispatch.spread(host, m, 2);
            boolean apart = true;
            for (final int other : others)
            {
                apart &= FlowDispatch.spread(other, m, 2) != worker;
            }
            if (apart)
            {
                return m;
            }
        }
        throw new IllegalStateException("no odd multiplier separates the host from the others");
    }

    /** What to put before the gateway's command so that it spreads with {@code multiplier}. */
    static List<String> launcher(final int multiplier)
    {
        return List.of("env", Gateway.SPREAD_MULTIPLIER_ENV + "=" + Integer.toUnsignedString(multiplier));
    }
}
