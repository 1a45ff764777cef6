package io.edgeplane.stage;

/**
 * The flow hash used for ECMP member choice and VXLAN source ports: the 5-tuple mixed with a seed through the
 * murmur3 finalizer. Symmetric in nothing, cheap, and the same seed gives the same choice on every instance.
 */
public final class FlowHash
{
    private FlowHash()
    {
    }

    public static int hash(final int seed, final int source, final int destination, final int protocol,
        final int ports)
    {
        int h = seed ^ 0x9E3779B9;
        h = mix(h, source);
        h = mix(h, destination);
        h = mix(h, protocol);
        h = mix(h, ports);
        return fmix(h);
    }

    private static int mix(final int h, final int k)
    {
        int x = k * 0xCC9E2D51;
        x = Integer.rotateLeft(x, 15) * 0x1B873593;
        return Integer.rotateLeft(h ^ x, 13) * 5 + 0xE6546B64;
    }

    private static int fmix(final int value)
    {
        int h = value;
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }
}
