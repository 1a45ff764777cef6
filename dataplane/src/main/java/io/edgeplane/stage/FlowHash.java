package io.edgeplane.stage;

/**
 * The flow hash used for ECMP member choice (and later VXLAN source ports): the 5-tuple folded into two 64-bit
 * words, multiplied by odd constants and finished with a 64-bit mixer (three multiplies in all). Seeded, so
 * instances that share a seed make the same choices; the seed keeps the choice unpredictable to senders.
 */
public final class FlowHash
{
    private FlowHash()
    {
    }

    public static int hash(final int seed, final int source, final int destination, final int protocol,
        final int ports)
    {
        final long addresses = ((long)source << 32 | (destination & 0xFFFF_FFFFL)) ^ ((long)seed * 0x9E37_79B9L);
        final long rest = ((long)ports << 8) | protocol;
        long x = addresses * 0x9E37_79B9_7F4A_7C15L ^ rest * 0xC2B2_AE3D_27D4_EB4FL;
        x ^= x >>> 31;
        x *= 0xD6E8_FEB8_6659_FD93L;
        x ^= x >>> 32;
        return (int)x;
    }
}
