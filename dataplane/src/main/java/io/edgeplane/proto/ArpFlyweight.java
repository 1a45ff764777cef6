package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * ARP for IPv4 over Ethernet (RFC 826).
 *
 * <pre>
 * +-------------------------------+-------------------------------+
 * |  HTYPE (1)                    |  PTYPE (0x0800)               |
 * +---------------+---------------+-------------------------------+
 * |  HLEN (6)     |  PLEN (4)     |  OPER (1 request, 2 reply)    |
 * +---------------+---------------+-------------------------------+
 * |  SHA (6) | SPA (4) | THA (6) | TPA (4)                        |
 * +---------------------------------------------------------------+
 * </pre>
 */
public final class ArpFlyweight
{
    public static final int HTYPE_OFFSET = 0;
    public static final int PTYPE_OFFSET = 2;
    public static final int HLEN_OFFSET = 4;
    public static final int PLEN_OFFSET = 5;
    public static final int OPERATION_OFFSET = 6;
    public static final int SENDER_MAC_OFFSET = 8;
    public static final int SENDER_IP_OFFSET = SENDER_MAC_OFFSET + 6;
    public static final int TARGET_MAC_OFFSET = SENDER_IP_OFFSET + 4;
    public static final int TARGET_IP_OFFSET = TARGET_MAC_OFFSET + 6;
    public static final int LENGTH = TARGET_IP_OFFSET + 4;

    public static final int HTYPE_ETHERNET = 1;
    public static final int OP_REQUEST = 1;
    public static final int OP_REPLY = 2;

    private MutableDirectBuffer buffer;
    private int offset;

    public ArpFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int hardwareType()
    {
        return buffer.getShort(offset + HTYPE_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public int protocolType()
    {
        return buffer.getShort(offset + PTYPE_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public int hardwareLength()
    {
        return buffer.getByte(offset + HLEN_OFFSET) & 0xFF;
    }

    public int protocolLength()
    {
        return buffer.getByte(offset + PLEN_OFFSET) & 0xFF;
    }

    public int operation()
    {
        return buffer.getShort(offset + OPERATION_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public ArpFlyweight operation(final int op)
    {
        buffer.putShort(offset + OPERATION_OFFSET, (short)op, NETWORK_ORDER);
        return this;
    }

    public long senderMac()
    {
        return EthernetFlyweight.readMac(buffer, offset + SENDER_MAC_OFFSET);
    }

    public ArpFlyweight senderMac(final long mac)
    {
        EthernetFlyweight.writeMac(buffer, offset + SENDER_MAC_OFFSET, mac);
        return this;
    }

    public int senderIp()
    {
        return buffer.getInt(offset + SENDER_IP_OFFSET, NETWORK_ORDER);
    }

    public ArpFlyweight senderIp(final int ip)
    {
        buffer.putInt(offset + SENDER_IP_OFFSET, ip, NETWORK_ORDER);
        return this;
    }

    public long targetMac()
    {
        return EthernetFlyweight.readMac(buffer, offset + TARGET_MAC_OFFSET);
    }

    public ArpFlyweight targetMac(final long mac)
    {
        EthernetFlyweight.writeMac(buffer, offset + TARGET_MAC_OFFSET, mac);
        return this;
    }

    public int targetIp()
    {
        return buffer.getInt(offset + TARGET_IP_OFFSET, NETWORK_ORDER);
    }

    public ArpFlyweight targetIp(final int ip)
    {
        buffer.putInt(offset + TARGET_IP_OFFSET, ip, NETWORK_ORDER);
        return this;
    }

    /** Writes the fixed Ethernet/IPv4 preamble (HTYPE, PTYPE, HLEN, PLEN) and the operation. */
    public ArpFlyweight ethernetIpv4(final int op)
    {
        buffer.putShort(offset + HTYPE_OFFSET, (short)HTYPE_ETHERNET, NETWORK_ORDER);
        buffer.putShort(offset + PTYPE_OFFSET, (short)EthernetFlyweight.TYPE_IPV4, NETWORK_ORDER);
        buffer.putByte(offset + HLEN_OFFSET, (byte)6);
        buffer.putByte(offset + PLEN_OFFSET, (byte)4);
        return operation(op);
    }
}
