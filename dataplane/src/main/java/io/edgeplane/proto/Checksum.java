package io.edgeplane.proto;

import org.agrona.DirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * The Internet checksum: full computation (RFC 1071) and incremental update (RFC 1624, eqn. 3:
 * {@code HC' = ~(~HC + ~m + m')}), all in 16-bit ones'-complement arithmetic held in {@code int}s.
 */
public final class Checksum
{
    private Checksum()
    {
    }

    /**
     * Add {@code length} bytes at {@code offset} to a running ones'-complement sum, folded to 16 bits.
     * An odd trailing byte is padded with zero, as RFC 1071 specifies.
     */
    public static int sum(final DirectBuffer buffer, final int offset, final int length, final int initial)
    {
        long sum = initial & 0xFFFFFFFFL;
        int i = 0;
        final int wordEnd = length & ~3;
        for (; i < wordEnd; i += 4)
        {
            sum += buffer.getInt(offset + i, NETWORK_ORDER) & 0xFFFF_FFFFL;
        }
        if (length - i >= 2)
        {
            sum += buffer.getShort(offset + i, NETWORK_ORDER) & 0xFFFF;
            i += 2;
        }
        if (i < length)
        {
            sum += (buffer.getByte(offset + i) & 0xFF) << 8;
        }
        return fold(sum);
    }

    public static int fold(final long value)
    {
        // Branch-free: four end-around-carry steps fold any 64-bit sum to 16 bits (at most 2^33, then 2^17 + 2^16,
        // then 0x10001, then 0xFFFF).
        long sum = (value & 0xFFFF_FFFFL) + (value >>> 32);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int)sum;
    }

    /**
     * The folded ones'-complement sum of a 20-byte IPv4 header given as its three words (bytes 0-7, 8-15, 16-19).
     * Byte-order independent (RFC 1071 2.(B)): words loaded in either order give a sum that is all ones exactly
     * when the header verifies.
     */
    public static int headerSum(final long first, final long second, final int third)
    {
        return fold((first >>> 32) + (first & 0xFFFF_FFFFL) + (second >>> 32) + (second & 0xFFFF_FFFFL) +
            (third & 0xFFFF_FFFFL));
    }

    /** Complement a folded sum into the value written to the wire. */
    public static int finish(final int sum)
    {
        return ~sum & 0xFFFF;
    }

    /** Sum of the IPv4 pseudo-header (RFC 768 / RFC 793) for a UDP or TCP checksum. */
    public static int pseudoHeaderSum(final int source, final int destination, final int protocol, final int length)
    {
        final long sum = (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) +
            protocol + length;
        return fold(sum);
    }

    /**
     * The RFC 1624 (eqn. 3) terms of a 32-bit field changing, to add up with others and apply once with
     * {@link #apply}: one fold for all the fields a translation rewrites.
     */
    public static long delta32(final int oldValue, final int newValue)
    {
        return (~(oldValue >>> 16) & 0xFFFF) + (~oldValue & 0xFFFF) + ((newValue >>> 16) & 0xFFFF) +
            (newValue & 0xFFFF);
    }

    /** The terms of a 16-bit field changing (see {@link #delta32}). */
    public static long delta16(final int oldWord, final int newWord)
    {
        return (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
    }

    /** Apply summed {@link #delta32}/{@link #delta16} terms to a checksum: {@code ~(~HC + terms)}. */
    public static int apply(final int checksum, final long terms)
    {
        return ~fold((~checksum & 0xFFFF) + terms) & 0xFFFF;
    }

    /** {@link #apply} for UDP: a zero checksum ("none", RFC 768) stays zero, a computed zero is sent as 0xFFFF. */
    public static int applyUdp(final int checksum, final long terms)
    {
        if (checksum == 0)
        {
            return 0;
        }
        final int updated = apply(checksum, terms);
        return updated == 0 ? 0xFFFF : updated;
    }

    /** RFC 1624 update of a checksum for one 16-bit word changing from {@code oldWord} to {@code newWord}. */
    public static int adjust16(final int checksum, final int oldWord, final int newWord)
    {
        final long sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return ~fold(sum) & 0xFFFF;
    }

    /** RFC 1624 update for a 32-bit field (an IPv4 address) changing value. */
    public static int adjust32(final int checksum, final int oldValue, final int newValue)
    {
        final long sum = (~checksum & 0xFFFF) +
            (~(oldValue >>> 16) & 0xFFFF) + (~oldValue & 0xFFFF) +
            ((newValue >>> 16) & 0xFFFF) + (newValue & 0xFFFF);
        return ~fold(sum) & 0xFFFF;
    }

    /**
     * Update a UDP checksum: a transmitted zero means "no checksum" and stays zero (RFC 768), and a computed zero is
     * sent as 0xFFFF.
     */
    public static int adjustUdp32(final int checksum, final int oldValue, final int newValue)
    {
        if (checksum == 0)
        {
            return 0;
        }
        final int updated = adjust32(checksum, oldValue, newValue);
        return updated == 0 ? 0xFFFF : updated;
    }

    public static int adjustUdp16(final int checksum, final int oldWord, final int newWord)
    {
        if (checksum == 0)
        {
            return 0;
        }
        final int updated = adjust16(checksum, oldWord, newWord);
        return updated == 0 ? 0xFFFF : updated;
    }
}
