package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * IPv4 header (RFC 791). Addresses are {@code int}s in host order holding the network-order value
 * (10.0.0.1 is {@code 0x0A000001}).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv4Flyweight
{
    public static final int VERSION_IHL_OFFSET = 0;
    public static final int TOS_OFFSET = 1;
    public static final int TOTAL_LENGTH_OFFSET = 2;
    public static final int IDENTIFICATION_OFFSET = 4;
    public static final int FLAGS_FRAGMENT_OFFSET = 6;
    public static final int TTL_OFFSET = 8;
    public static final int PROTOCOL_OFFSET = 9;
    public static final int CHECKSUM_OFFSET = 10;
    public static final int SOURCE_OFFSET = 12;
    public static final int DESTINATION_OFFSET = 16;
    public static final int MIN_HEADER_LENGTH = 20;

    public static final int PROTOCOL_ICMP = 1;
    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;

    public static final int FLAG_DF = 0x4000;
    public static final int FLAG_MF = 0x2000;
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    private MutableDirectBuffer buffer;
    private int offset;

    public Ipv4Flyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int version()
    {
        return (buffer.getByte(offset + VERSION_IHL_OFFSET) & 0xF0) >>> 4;
    }

    /** Header length in 32-bit words. */
    public int ihl()
    {
        return buffer.getByte(offset + VERSION_IHL_OFFSET) & 0x0F;
    }

    public int headerLength()
    {
        return ihl() << 2;
    }

    public Ipv4Flyweight versionAndIhl(final int version, final int ihl)
    {
        buffer.putByte(offset + VERSION_IHL_OFFSET, (byte)((version << 4) | ihl));
        return this;
    }

    public int tos()
    {
        return buffer.getByte(offset + TOS_OFFSET) & 0xFF;
    }

    public Ipv4Flyweight tos(final int tos)
    {
        buffer.putByte(offset + TOS_OFFSET, (byte)tos);
        return this;
    }

    public int totalLength()
    {
        return buffer.getShort(offset + TOTAL_LENGTH_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public Ipv4Flyweight totalLength(final int length)
    {
        buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short)length, NETWORK_ORDER);
        return this;
    }

    public int identification()
    {
        return buffer.getShort(offset + IDENTIFICATION_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public Ipv4Flyweight identification(final int id)
    {
        buffer.putShort(offset + IDENTIFICATION_OFFSET, (short)id, NETWORK_ORDER);
        return this;
    }

    /** The 16-bit flags + fragment offset word. */
    public int flagsAndFragmentOffset()
    {
        return buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public Ipv4Flyweight flagsAndFragmentOffset(final int value)
    {
        buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short)value, NETWORK_ORDER);
        return this;
    }

    public boolean dontFragment()
    {
        return (flagsAndFragmentOffset() & FLAG_DF) != 0;
    }

    public boolean isFragment()
    {
        return (flagsAndFragmentOffset() & (FLAG_MF | FRAGMENT_OFFSET_MASK)) != 0;
    }

    public boolean isNonFirstFragment()
    {
        return (flagsAndFragmentOffset() & FRAGMENT_OFFSET_MASK) != 0;
    }

    public int ttl()
    {
        return buffer.getByte(offset + TTL_OFFSET) & 0xFF;
    }

    public Ipv4Flyweight ttl(final int ttl)
    {
        buffer.putByte(offset + TTL_OFFSET, (byte)ttl);
        return this;
    }

    public int protocol()
    {
        return buffer.getByte(offset + PROTOCOL_OFFSET) & 0xFF;
    }

    public Ipv4Flyweight protocol(final int protocol)
    {
        buffer.putByte(offset + PROTOCOL_OFFSET, (byte)protocol);
        return this;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public Ipv4Flyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, NETWORK_ORDER);
        return this;
    }

    public int source()
    {
        return buffer.getInt(offset + SOURCE_OFFSET, NETWORK_ORDER);
    }

    public Ipv4Flyweight source(final int address)
    {
        buffer.putInt(offset + SOURCE_OFFSET, address, NETWORK_ORDER);
        return this;
    }

    public int destination()
    {
        return buffer.getInt(offset + DESTINATION_OFFSET, NETWORK_ORDER);
    }

    public Ipv4Flyweight destination(final int address)
    {
        buffer.putInt(offset + DESTINATION_OFFSET, address, NETWORK_ORDER);
        return this;
    }

    /** True when the header checksum verifies (the ones'-complement sum over the header is 0xFFFF). */
    public boolean headerChecksumValid()
    {
        final int headerLength = headerLength();
        if (headerLength == MIN_HEADER_LENGTH)
        {
            // The common case: the 20 bytes as three native-order words (the all-ones test is order independent).
            return Checksum.headerSum(buffer.getLong(offset), buffer.getLong(offset + 8),
                buffer.getInt(offset + 16)) == 0xFFFF;
        }
        return Checksum.sum(buffer, offset, headerLength, 0) == 0xFFFF;
    }

    /** Recompute the header checksum from scratch; used only where a header is created. */
    public Ipv4Flyweight updateHeaderChecksum()
    {
        checksum(0);
        checksum(Checksum.finish(Checksum.sum(buffer, offset, headerLength(), 0)));
        return this;
    }

    /**
     * Decrement TTL and patch the header checksum incrementally (RFC 1624): the TTL shares a 16-bit word with the
     * protocol, so the word changes by exactly 0x0100.
     */
    public Ipv4Flyweight decrementTtl()
    {
        buffer.putInt(offset + TTL_OFFSET, decrementedTtl(buffer.getInt(offset + TTL_OFFSET, NETWORK_ORDER)),
            NETWORK_ORDER);
        return this;
    }

    /**
     * The header's third 32-bit word (TTL, protocol, checksum; network order) with the TTL one lower and the
     * checksum patched for it (RFC 1624): one load and one store for a stage that already holds the word.
     */
    public static int decrementedTtl(final int ttlProtocolChecksum)
    {
        final int ttl = ttlProtocolChecksum >>> 24;
        final int protocol = (ttlProtocolChecksum >>> 16) & 0xFF;
        final int checksum = Checksum.adjust16(ttlProtocolChecksum & 0xFFFF, ttl << 8 | protocol,
            (ttl - 1) << 8 | protocol);
        return (ttl - 1) << 24 | protocol << 16 | checksum;
    }
}
