package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * UDP header (RFC 768). A checksum of zero means "none" (IPv4 only).
 *
 * <pre>
 * +-------------------------------+-------------------------------+
 * |          Source Port          |       Destination Port        |
 * +-------------------------------+-------------------------------+
 * |            Length             |           Checksum            |
 * +-------------------------------+-------------------------------+
 * </pre>
 */
public final class UdpFlyweight
{
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;
    public static final int LENGTH_OFFSET = 4;
    public static final int CHECKSUM_OFFSET = 6;
    public static final int HEADER_LENGTH = 8;

    private MutableDirectBuffer buffer;
    private int offset;

    public UdpFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int sourcePort()
    {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public UdpFlyweight sourcePort(final int port)
    {
        buffer.putShort(offset + SOURCE_PORT_OFFSET, (short)port, NETWORK_ORDER);
        return this;
    }

    public int destinationPort()
    {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public UdpFlyweight destinationPort(final int port)
    {
        buffer.putShort(offset + DESTINATION_PORT_OFFSET, (short)port, NETWORK_ORDER);
        return this;
    }

    public int length()
    {
        return buffer.getShort(offset + LENGTH_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public UdpFlyweight length(final int length)
    {
        buffer.putShort(offset + LENGTH_OFFSET, (short)length, NETWORK_ORDER);
        return this;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public UdpFlyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, NETWORK_ORDER);
        return this;
    }

    /** Full checksum with the IPv4 pseudo-header over {@link #length()} bytes; zero is sent as 0xFFFF. */
    public UdpFlyweight updateChecksum(final int source, final int destination)
    {
        final int length = length();
        checksum(0);
        final int sum = Checksum.sum(buffer, offset, length,
            Checksum.pseudoHeaderSum(source, destination, Ipv4Flyweight.PROTOCOL_UDP, length));
        final int value = Checksum.finish(sum);
        checksum(value == 0 ? 0xFFFF : value);
        return this;
    }
}
