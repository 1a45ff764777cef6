package io.edgeplane.session;

/**
 * SipHash (Aumasson and Bernstein, 2012), a keyed hash for short inputs: with a key chosen at random when the
 * gateway starts, nobody outside can compute which flows collide in a table, so hash flooding (sending many flows
 * that share one bucket) costs the attacker as much as random traffic. The session table uses SipHash-1-3 (one
 * compression round, three finalization rounds, as Rust's and Python's hash tables) over a 16-byte key; the round
 * count is a parameter so that the reference vectors of SipHash-2-4 check the implementation.
 */
public final class SipHash
{
    private final long k0;
    private final long k1;
    private final int compressionRounds;
    private final int finalizationRounds;

    public SipHash(final long k0, final long k1, final int compressionRounds, final int finalizationRounds)
    {
        this.k0 = k0;
        this.k1 = k1;
        this.compressionRounds = compressionRounds;
        this.finalizationRounds = finalizationRounds;
    }

    public static SipHash sipHash13(final long k0, final long k1)
    {
        return new SipHash(k0, k1, 1, 3);
    }

    /** The hash of a 16-byte message whose little-endian words are {@code m0} and {@code m1}. */
    public long hash16(final long m0, final long m1)
    {
        if (compressionRounds != 1 || finalizationRounds != 3)
        {
            return hash(m0, m1, 2, 16L << 56);
        }
        // SipHash-1-3 of two words, straight-line (the hot path hashes every packet's tuple once).
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L ^ m0;
        v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
        v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
        v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
        v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
        v0 ^= m0;
        v3 ^= m1;
        v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
        v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
        v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
        v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
        v0 ^= m1;
        final long b = 16L << 56;
        v3 ^= b;
        v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
        v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
        v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
        v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
        v0 ^= b;
        v2 ^= 0xFF;
        for (int r = 0; r < 3; r++)
        {
            v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }

    /**
     * The hash of a message made of {@code words} whole little-endian words (0, 1 or 2 of {@code m0}, {@code m1})
     * followed by {@code lastBlock}: the remaining bytes with the message length in its top byte.
     */
    long hash(final long m0, final long m1, final int words, final long lastBlock)
    {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        for (int w = 0; w <= words; w++)
        {
            final long m = w == words ? lastBlock : w == 0 ? m0 : m1;
            v3 ^= m;
            for (int r = 0; r < compressionRounds; r++)
            {
                v0 += v1;
                v1 = Long.rotateLeft(v1, 13) ^ v0;
                v0 = Long.rotateLeft(v0, 32);
                v2 += v3;
                v3 = Long.rotateLeft(v3, 16) ^ v2;
                v0 += v3;
                v3 = Long.rotateLeft(v3, 21) ^ v0;
                v2 += v1;
                v1 = Long.rotateLeft(v1, 17) ^ v2;
                v2 = Long.rotateLeft(v2, 32);
            }
            v0 ^= m;
        }
        v2 ^= 0xFF;
        for (int r = 0; r < finalizationRounds; r++)
        {
            v0 += v1;
            v1 = Long.rotateLeft(v1, 13) ^ v0;
            v0 = Long.rotateLeft(v0, 32);
            v2 += v3;
            v3 = Long.rotateLeft(v3, 16) ^ v2;
            v0 += v3;
            v3 = Long.rotateLeft(v3, 21) ^ v0;
            v2 += v1;
            v1 = Long.rotateLeft(v1, 17) ^ v2;
            v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }
}
