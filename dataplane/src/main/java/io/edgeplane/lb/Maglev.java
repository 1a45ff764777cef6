package io.edgeplane.lb;

import io.edgeplane.session.SipHash;

import java.util.Arrays;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4): a lookup table of prime size M in which every
 * backend owns about M / N entries (in proportion to its weight), built so that the same backend set gives the same
 * table on every gateway (scale-out without shared state) and removing one of N backends reassigns little more than
 * that backend's own entries.
 * <p>
 * Each backend has a permutation of the table, {@code (offset + j * skip) mod M}, with {@code offset} and {@code skip}
 * from two fixed-key SipHashes of its address and port (fixed, so every instance agrees; M prime, so every skip visits
 * every entry). Backends then take turns claiming the next free entry of their permutation until the table is full;
 * a backend of weight w claims w entries per turn. Backends are sorted by address and port first, so the order they
 * are listed in does not matter. The table holds backend indexes into that sorted order; a flow uses
 * {@code table[hash mod M]}.
 */
public final class Maglev
{
    /** The default table size: a prime, more than 100 x the backends a service is expected to have. */
    public static final int DEFAULT_SIZE = 65_537;
    private static final SipHash OFFSET = new SipHash(0x6d61676c65766f66L, 0x7365742d6b657921L, 2, 4);
    private static final SipHash SKIP = new SipHash(0x6d61676c6576736bL, 0x69702d6b65792121L, 2, 4);

    private Maglev()
    {
    }

    /** One backend: address, port and weight (at least 1). */
    public record Backend(int address, int port, int weight)
    {
        public Backend
        {
            if (weight < 1)
            {
                throw new IllegalArgumentException("weight must be at least 1");
            }
        }

        long key()
        {
            return (long)address << 32 | port & 0xFFFF_FFFFL;
        }
    }

    /** The backends in the order the table's indexes refer to (by address, then port). */
    public static Backend[] sorted(final Backend[] backends)
    {
        final Backend[] sorted = backends.clone();
        Arrays.sort(sorted, (a, b) -> Long.compare(a.key() ^ Long.MIN_VALUE, b.key() ^ Long.MIN_VALUE));
        return sorted;
    }

    /**
     * Build the lookup table for {@code backends} (any order; duplicates not allowed).
     *
     * @param size a prime.
     * @return for each entry, the index of its backend in {@link #sorted}{@code (backends)}; empty when there are no
     *         backends.
     */
    public static int[] build(final Backend[] backends, final int size)
    {
        if (!isPrime(size))
        {
            throw new IllegalArgumentException("Maglev table size must be a prime: " + size);
        }
        final int n = backends.length;
        if (n == 0)
        {
            return new int[0];
        }
        final Backend[] sorted = sorted(backends);
        final long[] offset = new long[n];
        final long[] skip = new long[n];
        final long[] next = new long[n];
        for (int i = 0; i < n; i++)
        {
            if (i > 0 && sorted[i].key() == sorted[i - 1].key())
            {
                throw new IllegalArgumentException("backend listed twice");
            }
            final long key = sorted[i].key();
            offset[i] = Long.remainderUnsigned(OFFSET.hash16(key, 0), size);
            skip[i] = Long.remainderUnsigned(SKIP.hash16(key, 0), size - 1) + 1;
        }
        final int[] table = new int[size];
        Arrays.fill(table, -1);
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                for (int turn = 0; turn < sorted[i].weight(); turn++)
                {
                    int entry = (int)((offset[i] + next[i] * skip[i]) % size);
                    while (table[entry] >= 0)
                    {
                        next[i]++;
                        entry = (int)((offset[i] + next[i] * skip[i]) % size);
                    }
                    table[entry] = i;
                    next[i]++;
                    if (++filled == size)
                    {
                        return table;
                    }
                }
            }
        }
    }

    /** The entry a flow hash picks (non-negative, for any hash). */
    public static int entry(final int flowHash, final int size)
    {
        return (int)((flowHash & 0xFFFF_FFFFL) % size);
    }

    public static boolean isPrime(final int value)
    {
        if (value < 2)
        {
            return false;
        }
        for (int d = 2; (long)d * d <= value; d++)
        {
            if (value % d == 0)
            {
                return false;
            }
        }
        return true;
    }
}
