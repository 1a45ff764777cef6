package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * TCP header (RFC 9293), fixed part.
 *
 * <pre>
 * +-------------------------------+-------------------------------+
 * |          Source Port          |       Destination Port        |
 * +-------------------------------+-------------------------------+
 * |                        Sequence Number                        |
 * +---------------------------------------------------------------+
 * |                    Acknowledgment Number                      |
 * +-------+-------+---------------+-------------------------------+
 * |  Data |       |     Flags     |            Window             |
 * | Offset| Rsrvd |CWR..FIN       |                               |
 * +-------+-------+---------------+-------------------------------+
 * |           Checksum            |         Urgent Pointer        |
 * +-------------------------------+-------------------------------+
 * </pre>
 */
public final class TcpFlyweight
{
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;
    public static final int SEQUENCE_OFFSET = 4;
    public static final int ACKNOWLEDGMENT_OFFSET = 8;
    public static final int DATA_OFFSET_OFFSET = 12;
    public static final int FLAGS_OFFSET = 13;
    public static final int WINDOW_OFFSET = 14;
    public static final int CHECKSUM_OFFSET = 16;
    public static final int MIN_HEADER_LENGTH = 20;

    public static final int FLAG_FIN = 0x01;
    public static final int FLAG_SYN = 0x02;
    public static final int FLAG_RST = 0x04;
    public static final int FLAG_ACK = 0x10;

    private MutableDirectBuffer buffer;
    private int offset;

    public TcpFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int sourcePort()
    {
        return buffer.getShort(offset + SOURCE_PORT_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public TcpFlyweight sourcePort(final int port)
    {
        buffer.putShort(offset + SOURCE_PORT_OFFSET, (short)port, NETWORK_ORDER);
        return this;
    }

    public int destinationPort()
    {
        return buffer.getShort(offset + DESTINATION_PORT_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public TcpFlyweight destinationPort(final int port)
    {
        buffer.putShort(offset + DESTINATION_PORT_OFFSET, (short)port, NETWORK_ORDER);
        return this;
    }

    public long sequence()
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET, NETWORK_ORDER) & 0xFFFF_FFFFL;
    }

    public long acknowledgment()
    {
        return buffer.getInt(offset + ACKNOWLEDGMENT_OFFSET, NETWORK_ORDER) & 0xFFFF_FFFFL;
    }

    /** Header length in 32-bit words. */
    public int dataOffset()
    {
        return (buffer.getByte(offset + DATA_OFFSET_OFFSET) & 0xF0) >>> 4;
    }

    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    public int window()
    {
        return buffer.getShort(offset + WINDOW_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public TcpFlyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, NETWORK_ORDER);
        return this;
    }

    /**
     * Make the header a bare one with {@code flags} (a reset, RFC 9293 3.10.7.1): no options, window, checksum and
     * urgent pointer zero. Ports, sequence and acknowledgment numbers stay as the caller set them; the checksum is
     * {@link #updateChecksum}'s job once the addresses are final.
     */
    public TcpFlyweight bareHeader(final int flags)
    {
        buffer.putByte(offset + DATA_OFFSET_OFFSET, (byte)(MIN_HEADER_LENGTH / 4 << 4));
        buffer.putByte(offset + FLAGS_OFFSET, (byte)flags);
        buffer.putInt(offset + WINDOW_OFFSET, 0); // window and checksum
        buffer.putShort(offset + CHECKSUM_OFFSET + 2, (short)0); // urgent pointer
        return this;
    }

    /** Full checksum with the IPv4 pseudo-header over {@code segmentLength} bytes (header + payload). */
    public TcpFlyweight updateChecksum(final int source, final int destination, final int segmentLength)
    {
        checksum(0);
        final int sum = Checksum.sum(buffer, offset, segmentLength,
            Checksum.pseudoHeaderSum(source, destination, Ipv4Flyweight.PROTOCOL_TCP, segmentLength));
        checksum(Checksum.finish(sum));
        return this;
    }
}
