package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * ICMP header (RFC 792). The second word is the echo identifier/sequence, or unused + next-hop MTU for
 * "fragmentation needed" (RFC 1191).
 *
 * <pre>
 * +---------------+---------------+-------------------------------+
 * |     Type      |     Code      |          Checksum             |
 * +---------------+---------------+-------------------------------+
 * |     Identifier / unused       |  Sequence / next-hop MTU      |
 * +-------------------------------+-------------------------------+
 * </pre>
 */
public final class IcmpFlyweight
{
    public static final int TYPE_OFFSET = 0;
    public static final int CODE_OFFSET = 1;
    public static final int CHECKSUM_OFFSET = 2;
    public static final int IDENTIFIER_OFFSET = 4;
    public static final int SEQUENCE_OFFSET = 6;
    public static final int HEADER_LENGTH = 8;

    public static final int TYPE_ECHO_REPLY = 0;
    public static final int TYPE_DESTINATION_UNREACHABLE = 3;
    public static final int TYPE_ECHO_REQUEST = 8;
    public static final int TYPE_TIME_EXCEEDED = 11;

    public static final int CODE_NET_UNREACHABLE = 0;
    public static final int CODE_HOST_UNREACHABLE = 1;
    public static final int CODE_FRAGMENTATION_NEEDED = 4;
    public static final int CODE_TTL_EXCEEDED_IN_TRANSIT = 0;

    private MutableDirectBuffer buffer;
    private int offset;

    public IcmpFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int type()
    {
        return buffer.getByte(offset + TYPE_OFFSET) & 0xFF;
    }

    public IcmpFlyweight type(final int type)
    {
        buffer.putByte(offset + TYPE_OFFSET, (byte)type);
        return this;
    }

    public int code()
    {
        return buffer.getByte(offset + CODE_OFFSET) & 0xFF;
    }

    public IcmpFlyweight code(final int code)
    {
        buffer.putByte(offset + CODE_OFFSET, (byte)code);
        return this;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public IcmpFlyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, NETWORK_ORDER);
        return this;
    }

    public int identifier()
    {
        return buffer.getShort(offset + IDENTIFIER_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public IcmpFlyweight identifier(final int id)
    {
        buffer.putShort(offset + IDENTIFIER_OFFSET, (short)id, NETWORK_ORDER);
        return this;
    }

    public int sequence()
    {
        return buffer.getShort(offset + SEQUENCE_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public IcmpFlyweight sequence(final int sequence)
    {
        buffer.putShort(offset + SEQUENCE_OFFSET, (short)sequence, NETWORK_ORDER);
        return this;
    }

    /** The "rest of header" word as a whole (unused, or unused + MTU for fragmentation needed). */
    public IcmpFlyweight restOfHeader(final int value)
    {
        buffer.putInt(offset + IDENTIFIER_OFFSET, value, NETWORK_ORDER);
        return this;
    }

    /** Recompute the checksum over {@code length} bytes of ICMP header and data. */
    public IcmpFlyweight updateChecksum(final int length)
    {
        checksum(0);
        checksum(Checksum.finish(Checksum.sum(buffer, offset, length, 0)));
        return this;
    }

    public boolean checksumValid(final int length)
    {
        return Checksum.sum(buffer, offset, length, 0) == 0xFFFF;
    }
}
