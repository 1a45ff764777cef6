package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * VXLAN header (RFC 7348), carried in UDP to port 4789.
 *
 * <pre>
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|               Reserved                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class VxlanFlyweight
{
    public static final int FLAGS_OFFSET = 0;
    public static final int VNI_OFFSET = 4;
    public static final int HEADER_LENGTH = 8;
    public static final int FLAG_VNI_VALID = 0x08;
    public static final int UDP_PORT = 4789;

    private MutableDirectBuffer buffer;
    private int offset;

    public VxlanFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    /** Write the header: I flag set, every reserved bit zero. */
    public VxlanFlyweight header(final int vni)
    {
        buffer.putInt(offset + FLAGS_OFFSET, FLAG_VNI_VALID << 24, NETWORK_ORDER);
        buffer.putInt(offset + VNI_OFFSET, vni << 8, NETWORK_ORDER);
        return this;
    }

    public int vni()
    {
        return buffer.getInt(offset + VNI_OFFSET, NETWORK_ORDER) >>> 8;
    }

    /** RFC 7348: the I flag must be set; reserved bits must be zero on send and are ignored on receive. */
    public boolean vniValid()
    {
        return (flags() & FLAG_VNI_VALID) != 0;
    }
}
