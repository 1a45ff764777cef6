package io.edgeplane.stage;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.proto.Checksum;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.route.FibTables;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import static io.edgeplane.proto.NetworkOrder.NETWORK_ORDER;

/**
 * Undoes the transmit offloads of the hosts on a port before their frames enter the pipeline, as a NIC would hand
 * them over: a Linux peer with default offloads (every veth, every VM) passes frames whose TCP/UDP checksum was left
 * for "the hardware" to fill in ({@code CHECKSUM_PARTIAL}), and, with TSO/GSO, TCP "super-frames" of up to 64 KiB.
 * <ul>
 *   <li>A partial checksum is completed in software (the port tells which frames have one).</li>
 *   <li>A TCP super-frame longer than the port's MTU is cut into segments that fit it, written straight into pool
 *       slots (no intermediate copy): headers copied, IPv4 total length, identification (+1 per segment) and header
 *       checksum, TCP sequence number (+ payload so far) and flags (CWR on the first segment only, FIN and PSH on the
 *       last only) rewritten, and a full TCP checksum per segment, as the kernel's {@code tcp_gso_segment} does.</li>
 * </ul>
 * Everything after the port sees ordinary, valid frames: NAT, services and tunnels never deal with offload state.
 * VXLAN to one of our tunnels is looked into: a peer's UDP tunnel offloads leave the inner TCP checksum partial and
 * put many inner segments in one super-frame, so the same completion and segmentation apply to the inner packet,
 * with the outer headers fixed per segment. Any other UDP super-frame (UDP_SEGMENT) cannot be cut without the
 * sender's segment size, which only {@code PACKET_VNET_HDR} carries; it is dropped as {@code rx-oversize}. Owned by
 * the worker thread.
 */
public final class ReceiveOffloads
{
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;
    /** UDP and VXLAN headers between an outer IPv4 header and the inner Ethernet frame. */
    private static final int TUNNEL_HEADERS = 16;

    private final Dataplane dataplane;
    private final PacketPool pool;
    private final MutableDirectBuffer slots;
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final AtomicCounter checksumsCompleted;
    private final AtomicCounter superFrames;
    private final AtomicCounter segments;

    public ReceiveOffloads(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
        this.pool = dataplane.pool();
        this.slots = pool.buffer();
        this.checksumsCompleted = dataplane.counters().event("rx-checksum-completed");
        this.superFrames = dataplane.counters().event("rx-gso-frames");
        this.segments = dataplane.counters().event("rx-gso-segments");
    }

    /**
     * Receive one frame from a port.
     *
     * @param checksumPartial the frame's TCP/UDP checksum is not filled in yet (TP_STATUS_CSUMNOTREADY).
     * @param mtu             the port's MTU: longer TCP frames are segmented to fit it.
     * @return the number of packet ids used (segments count one each).
     */
    public int receive(final int port, final DirectBuffer frame, final int offset, final int length,
        final boolean checksumPartial, final int mtu, final long packetId, final long timestampNanos)
    {
        final int l3 = l3Offset(frame, offset, length);
        if (l3 < 0 || (!checksumPartial && length - (l3 - offset) <= mtu))
        {
            dataplane.receive(port, frame, offset, length, packetId, timestampNanos);
            return 1;
        }
        final int ipHeader = (frame.getByte(l3) & 0x0F) * 4;
        final int protocol = frame.getByte(l3 + 9) & 0xFF;
        final int total = Math.min(frame.getShort(l3 + 2, NETWORK_ORDER) & 0xFFFF,
            offset + length - l3);
        final boolean fragment = (frame.getShort(l3 + 6, NETWORK_ORDER) & 0x3FFF) != 0;
        if (ipHeader < 20 || total < ipHeader + 8 || fragment)
        {
            dataplane.receive(port, frame, offset, length, packetId, timestampNanos);
            return 1;
        }
        final int l4 = l3 + ipHeader;
        if (protocol == Ipv4Flyweight.PROTOCOL_UDP && total >= ipHeader + TUNNEL_HEADERS + 20 &&
            dataplane.ports().tunnelPort(port, frame.getShort(l4 + 2, NETWORK_ORDER) & 0xFFFF))
        {
            final int used = tunneled(port, frame, offset, length, l3, total, checksumPartial, mtu, packetId,
                timestampNanos);
            if (used > 0)
            {
                return used;
            }
        }
        if (protocol == Ipv4Flyweight.PROTOCOL_TCP && total > mtu)
        {
            final int tcpHeader = ((frame.getByte(l4 + 12) & 0xF0) >>> 4) * 4;
            // The sender's segment size is not known (only PACKET_VNET_HDR carries it): cut to what fits both the
            // ingress MTU and the egress port's (a tunnel's is smaller), as the sender's own GSO would have after
            // path MTU discovery.
            final int segmentMtu = Math.min(mtu, egressMtu(frame.getInt(l3 + 16, NETWORK_ORDER), mtu));
            if (tcpHeader >= 20 && ipHeader + tcpHeader < total && ipHeader + tcpHeader + 8 <= segmentMtu)
            {
                return segment(port, frame, offset, -1, l3, ipHeader, tcpHeader, total, segmentMtu, packetId,
                    timestampNanos);
            }
        }
        if (!checksumPartial || length > pool.maxFrameLength() ||
            protocol != Ipv4Flyweight.PROTOCOL_TCP && protocol != Ipv4Flyweight.PROTOCOL_UDP)
        {
            dataplane.receive(port, frame, offset, length, packetId, timestampNanos);
            return 1;
        }
        if (!receiveCompleted(port, frame, offset, length, l3, ipHeader, protocol, total, packetId, timestampNanos))
        {
            dataplane.receive(port, frame, offset, length, packetId, timestampNanos);
        }
        return 1;
    }

    /**
     * Copy the frame into a pool slot, fill in the checksum of the IPv4 packet at {@code l3} (the inner one of a
     * tunneled frame) and receive it.
     *
     * @return false when the pool had no slot (the caller receives the frame as it is, to be counted).
     */
    private boolean receiveCompleted(final int port, final DirectBuffer frame, final int offset, final int length,
        final int l3, final int ipHeader, final int protocol, final int total, final long packetId,
        final long timestampNanos)
    {
        final int h = pool.allocate();
        if (h == PacketPool.NO_PACKET)
        {
            return false;
        }
        final int start = pool.frameOffset(h);
        slots.putBytes(start, frame, offset, length);
        completeChecksum(start + (l3 - offset), ipHeader, protocol, total);
        checksumsCompleted.incrementRelease();
        dataplane.receiveSlot(port, h, length, packetId, timestampNanos);
        return true;
    }

    /**
     * A VXLAN packet to one of our tunnels: the peer's offloads apply to the inner packet (Linux's UDP tunnel GSO:
     * the inner TCP checksum is partial and a super-frame holds many inner segments; the outer UDP checksum is 0).
     *
     * @return the packet ids used, or 0 when it is left to the plain path.
     */
    private int tunneled(final int port, final DirectBuffer frame, final int offset, final int length, final int l3,
        final int total, final boolean checksumPartial, final int mtu, final long packetId, final long timestampNanos)
    {
        final int outerHeader = (frame.getByte(l3) & 0x0F) * 4;
        final int innerL2 = l3 + outerHeader + TUNNEL_HEADERS;
        final int innerL3 = innerL2 + EthernetFlyweight.HEADER_LENGTH;
        if ((frame.getShort(innerL2 + 12, NETWORK_ORDER) & 0xFFFF) != EthernetFlyweight.TYPE_IPV4 ||
            (frame.getByte(innerL3) & 0xF0) != 0x40)
        {
            return 0;
        }
        final int innerHeader = (frame.getByte(innerL3) & 0x0F) * 4;
        final int innerProtocol = frame.getByte(innerL3 + 9) & 0xFF;
        final int innerTotal = Math.min(frame.getShort(innerL3 + 2, NETWORK_ORDER) & 0xFFFF,
            offset + length - innerL3);
        if (innerHeader < 20 || innerTotal < innerHeader + 8 ||
            (frame.getShort(innerL3 + 6, NETWORK_ORDER) & 0x3FFF) != 0)
        {
            return 0;
        }
        if (innerProtocol == Ipv4Flyweight.PROTOCOL_TCP && total > mtu)
        {
            final int tcpHeader = ((frame.getByte(innerL3 + innerHeader + 12) & 0xF0) >>> 4) * 4;
            if (tcpHeader >= 20 && innerHeader + tcpHeader < innerTotal &&
                innerL3 - l3 + innerHeader + tcpHeader + 8 <= mtu)
            {
                return segment(port, frame, offset, l3, innerL3, innerHeader, tcpHeader, innerTotal, mtu, packetId,
                    timestampNanos);
            }
        }
        if (!checksumPartial || length > pool.maxFrameLength() ||
            innerProtocol != Ipv4Flyweight.PROTOCOL_TCP && innerProtocol != Ipv4Flyweight.PROTOCOL_UDP)
        {
            return 0;
        }
        return receiveCompleted(port, frame, offset, length, innerL3, innerHeader, innerProtocol, innerTotal,
            packetId, timestampNanos) ? 1 : 0;
    }

    /** The MTU of the port a packet to {@code destination} would leave by, or {@code otherwise}. */
    private int egressMtu(final int destination, final int otherwise)
    {
        final FibTables fib = dataplane.routes().tables();
        final int group = fib.lookup(destination);
        if (group == FibTables.NO_ROUTE || fib.kind(group) != FibTables.KIND_FORWARD)
        {
            return otherwise;
        }
        return dataplane.ports().mtu(fib.adjacencyPort(fib.adjacency(group, 0)));
    }

    /** The offset of an IPv4 header behind Ethernet (and one 802.1Q tag), or -1. */
    private int l3Offset(final DirectBuffer frame, final int offset, final int length)
    {
        if (length < EthernetFlyweight.HEADER_LENGTH + 20)
        {
            return -1;
        }
        int type = frame.getShort(offset + 12, NETWORK_ORDER) & 0xFFFF;
        int l3 = offset + EthernetFlyweight.HEADER_LENGTH;
        if (type == EthernetFlyweight.TYPE_VLAN)
        {
            if (length < EthernetFlyweight.VLAN_HEADER_LENGTH + 20)
            {
                return -1;
            }
            type = frame.getShort(offset + 16, NETWORK_ORDER) & 0xFFFF;
            l3 = offset + EthernetFlyweight.VLAN_HEADER_LENGTH;
        }
        return type == EthernetFlyweight.TYPE_IPV4 && (frame.getByte(l3) & 0xF0) == 0x40 ? l3 : -1;
    }

    /** Fill in the TCP or UDP checksum of the IPv4 packet at {@code l3} in a pool slot. */
    private void completeChecksum(final int l3, final int ipHeader, final int protocol, final int total)
    {
        ip.wrap(slots, l3);
        final int l4 = l3 + ipHeader;
        final int segment = total - ipHeader;
        final int field = l4 + (protocol == Ipv4Flyweight.PROTOCOL_TCP ? 16 : 6);
        if (protocol == Ipv4Flyweight.PROTOCOL_UDP && segment < 8 || protocol == Ipv4Flyweight.PROTOCOL_TCP &&
            segment < 20)
        {
            return;
        }
        slots.putShort(field, (short)0, NETWORK_ORDER);
        final int sum = Checksum.sum(slots, l4, segment,
            Checksum.pseudoHeaderSum(ip.source(), ip.destination(), protocol, segment));
        int checksum = Checksum.finish(sum);
        if (protocol == Ipv4Flyweight.PROTOCOL_UDP && checksum == 0)
        {
            checksum = 0xFFFF;
        }
        slots.putShort(field, (short)checksum, NETWORK_ORDER);
    }

    /**
     * Cut the TCP payload of the IPv4 packet at {@code l3} into segments that fit {@code mtu}; when it is tunneled,
     * {@code outerL3} is the outer IPv4 header (its length, identification, checksum and the UDP length are fixed
     * per segment too; the UDP checksum is 0), else -1.
     */
    private int segment(final int port, final DirectBuffer frame, final int offset, final int outerL3, final int l3,
        final int ipHeader, final int tcpHeader, final int total, final int mtu, final long packetId,
        final long timestampNanos)
    {
        final int l2 = l3 - offset;
        final int headers = l2 + ipHeader + tcpHeader;
        final int payload = total - ipHeader - tcpHeader;
        final int encapsulation = outerL3 < 0 ? 0 : l3 - outerL3;
        final int mss = Math.min(mtu - encapsulation - ipHeader - tcpHeader, pool.maxFrameLength() - headers);
        final int outerId = outerL3 < 0 ? 0 : frame.getShort(outerL3 + 4, NETWORK_ORDER) & 0xFFFF;
        final int identification = frame.getShort(l3 + 4, NETWORK_ORDER) & 0xFFFF;
        final long sequence = frame.getInt(l3 + ipHeader + 4, NETWORK_ORDER) & 0xFFFF_FFFFL;
        final int flags = frame.getByte(l3 + ipHeader + 13) & 0xFF;
        int used = 0;
        int count = 0;
        superFrames.incrementRelease();
        for (int done = 0; done < payload; done += mss)
        {
            final int chunk = Math.min(mss, payload - done);
            final int h = pool.allocate();
            if (h == PacketPool.NO_PACKET)
            {
                // Out of slots: the rest is counted as received and dropped, as a NIC out of descriptors would.
                dataplane.receive(port, frame, offset, pool.maxFrameLength() + 1, packetId + used++,
                    timestampNanos);
                break;
            }
            final int start = pool.frameOffset(h);
            slots.putBytes(start, frame, offset, headers);
            slots.putBytes(start + headers, frame, offset + headers + done, chunk);
            final int s3 = start + l2;
            final int s4 = s3 + ipHeader;
            final boolean last = done + chunk >= payload;
            slots.putShort(s3 + 2, (short)(ipHeader + tcpHeader + chunk), NETWORK_ORDER);
            slots.putShort(s3 + 4, (short)(identification + count), NETWORK_ORDER);
            ip.wrap(slots, s3).updateHeaderChecksum();
            slots.putInt(s4 + 4, (int)(sequence + done), NETWORK_ORDER);
            int segmentFlags = flags;
            if (count > 0)
            {
                segmentFlags &= ~TCP_CWR;
            }
            if (!last)
            {
                segmentFlags &= ~(TCP_FIN | TCP_PSH);
            }
            slots.putByte(s4 + 13, (byte)segmentFlags);
            completeChecksum(s3, ipHeader, Ipv4Flyweight.PROTOCOL_TCP, ipHeader + tcpHeader + chunk);
            if (outerL3 >= 0)
            {
                final int o3 = start + (outerL3 - offset);
                final int outerHeader = (slots.getByte(o3) & 0x0F) * 4;
                final int outerLength = encapsulation + ipHeader + tcpHeader + chunk;
                slots.putShort(o3 + 2, (short)outerLength, NETWORK_ORDER);
                slots.putShort(o3 + 4, (short)(outerId + count), NETWORK_ORDER);
                ip.wrap(slots, o3).updateHeaderChecksum();
                slots.putShort(o3 + outerHeader + 4, (short)(outerLength - outerHeader), NETWORK_ORDER);
                slots.putShort(o3 + outerHeader + 6, (short)0, NETWORK_ORDER);
            }
            dataplane.receiveSlot(port, h, headers + chunk, packetId + used++, timestampNanos);
            count++;
        }
        segments.getAndAddRelease(count);
        return used;
    }
}
