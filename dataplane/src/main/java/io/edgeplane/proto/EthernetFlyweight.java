package io.edgeplane.proto;

import org.agrona.MutableDirectBuffer;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * Ethernet II header, optionally with one IEEE 802.1Q tag.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Destination MAC (48 bits)                    |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                    Source MAC (48 bits)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   EtherType / TPID 0x8100     | [PCP|DEI|  VID  ] (if tagged) |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   inner EtherType (if tagged) |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * MAC addresses are handled as the low 48 bits of a {@code long}, most significant byte first on the wire.
 */
public final class EthernetFlyweight
{
    public static final int DESTINATION_OFFSET = 0;
    public static final int SOURCE_OFFSET = DESTINATION_OFFSET + 6;
    public static final int ETHER_TYPE_OFFSET = SOURCE_OFFSET + 6;
    public static final int HEADER_LENGTH = ETHER_TYPE_OFFSET + 2;
    public static final int VLAN_TCI_OFFSET = HEADER_LENGTH;
    public static final int VLAN_INNER_TYPE_OFFSET = VLAN_TCI_OFFSET + 2;
    public static final int VLAN_HEADER_LENGTH = VLAN_INNER_TYPE_OFFSET + 2;

    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_VLAN = 0x8100;
    public static final int TYPE_QINQ = 0x88A8;
    public static final int TYPE_IPV6 = 0x86DD;

    public static final long BROADCAST_MAC = 0xFFFF_FFFF_FFFFL;

    private MutableDirectBuffer buffer;
    private int offset;

    public EthernetFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public long destination()
    {
        return readMac(buffer, offset + DESTINATION_OFFSET);
    }

    public EthernetFlyweight destination(final long mac)
    {
        writeMac(buffer, offset + DESTINATION_OFFSET, mac);
        return this;
    }

    public long source()
    {
        return readMac(buffer, offset + SOURCE_OFFSET);
    }

    public EthernetFlyweight source(final long mac)
    {
        writeMac(buffer, offset + SOURCE_OFFSET, mac);
        return this;
    }

    public int etherType()
    {
        return buffer.getShort(offset + ETHER_TYPE_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public EthernetFlyweight etherType(final int type)
    {
        buffer.putShort(offset + ETHER_TYPE_OFFSET, (short)type, NETWORK_ORDER);
        return this;
    }

    /** Tag control information of a tagged frame; caller checked {@code etherType() == TYPE_VLAN}. */
    public int vlanTci()
    {
        return buffer.getShort(offset + VLAN_TCI_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public EthernetFlyweight vlanTci(final int tci)
    {
        buffer.putShort(offset + VLAN_TCI_OFFSET, (short)tci, NETWORK_ORDER);
        return this;
    }

    public int vlanInnerType()
    {
        return buffer.getShort(offset + VLAN_INNER_TYPE_OFFSET, NETWORK_ORDER) & 0xFFFF;
    }

    public EthernetFlyweight vlanInnerType(final int type)
    {
        buffer.putShort(offset + VLAN_INNER_TYPE_OFFSET, (short)type, NETWORK_ORDER);
        return this;
    }

    /** Bytes of the header {@link #emit} writes: 14, or 18 with a VLAN tag. */
    public static int headerLength(final int vlan)
    {
        return vlan == 0 ? HEADER_LENGTH : VLAN_HEADER_LENGTH;
    }

    /**
     * The one place a whole Ethernet header is written (rewrite, ARP requests, encapsulation): destination, source,
     * and the EtherType, behind an 802.1Q tag when {@code vlan} is not 0.
     *
     * @return the header length written.
     */
    public int emit(final long destination, final long source, final int vlan, final int etherType)
    {
        destination(destination).source(source);
        if (vlan == 0)
        {
            etherType(etherType);
            return HEADER_LENGTH;
        }
        etherType(TYPE_VLAN).vlanTci(vlan).vlanInnerType(etherType);
        return VLAN_HEADER_LENGTH;
    }

    public static boolean isMulticast(final long mac)
    {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    public static long readMac(final MutableDirectBuffer buffer, final int index)
    {
        final long high = buffer.getShort(index, NETWORK_ORDER) & 0xFFFFL;
        final long low = buffer.getInt(index + 2, NETWORK_ORDER) & 0xFFFF_FFFFL;
        return (high << 32) | low;
    }

    public static void writeMac(final MutableDirectBuffer buffer, final int index, final long mac)
    {
        buffer.putShort(index, (short)(mac >>> 32), NETWORK_ORDER);
        buffer.putInt(index + 2, (int)mac, NETWORK_ORDER);
    }
}
