package io.edgeplane.stage;

import io.edgeplane.lb.ServiceTable;
import io.edgeplane.lb.Services;
import io.edgeplane.nat.Nat;
import io.edgeplane.nat.NatSettings;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.IcmpFlyweight;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.NetworkOrder;
import io.edgeplane.proto.VxlanFlyweight;
import org.agrona.DirectBuffer;

/**
 * Which worker owns a received frame, with several workers. Frames are spread over workers by their IPv4 source
 * address ({@link #spread}: the kernel computes the same function in the fanout program of the live ports, replay
 * and benchmarks compute it here), so every packet of a flow, fragments included, reaches one worker, and all of an
 * inside host's flows reach the same one (its NAT mapping is endpoint-independent across destinations, RFC 4787
 * REQ-1, as VPP's NAT44-ED hands inside traffic off by source address). The receiving worker then asks this class
 * whether the frame belongs elsewhere; only translated flows' returning packets do:
 * <ol>
 *   <li>to a service frontend (VIP, ClusterIP, node port): the client's flow, stays (spread by the client);</li>
 *   <li>to a box address, on a port inside the NAT port range (a masqueraded flow's reply, also an ICMP echo reply
 *       by its identifier and an ICMP error by the embedded source port): the worker whose slice of the range holds
 *       that port made the mapping and owns it;</li>
 *   <li>from a service backend (address, protocol, target port; by address for ICMP and for fragments): a reply to
 *       a client whose flow the client's worker owns, so spread by the destination;</li>
 *   <li>anything else stays.</li>
 * </ol>
 * A VXLAN packet to the box is judged by its inner frame (the overlay's pods are the clients and backends). A
 * non-first fragment carries no ports: the worker that received the first fragment of its datagram (every
 * fragment comes to the same receiving worker, as they share the source) remembers where that went, and sends
 * the rest after it; a non-first fragment that overtook its first one is judged by addresses alone.
 * <p>
 * One instance per worker (it keeps that worker's fragment memory); reads only tables the control plane publishes
 * whole (NAT settings, the service table, the port table).
 */
public final class FlowDispatch
{
    /** The frame is not IPv4 (ARP and the like): it stays where it arrived. */
    public static final int STAYS = -1;
    private static final int FRAGMENT_SLOTS = 256;

    private final int worker;
    private final int workers;
    private final int multiplier;
    private final Nat nat;
    private final Services services;
    private final PortTable ports;
    private final long[] fragmentKeys = new long[FRAGMENT_SLOTS];
    private final int[] fragmentIds = new int[FRAGMENT_SLOTS];
    private final int[] fragmentOwners = new int[FRAGMENT_SLOTS];

    /**
     * @param multiplier the odd multiplier of {@link #spread} (the same in the kernel's fanout program).
     */
    public FlowDispatch(final int worker, final int workers, final int multiplier, final Nat nat,
        final Services services, final PortTable ports)
    {
        this.worker = worker;
        this.workers = workers;
        this.multiplier = multiplier;
        this.nat = nat;
        this.services = services;
        this.ports = ports;
        java.util.Arrays.fill(fragmentOwners, -1);
    }

    /**
     * The worker for a source address: the upper half of a multiplicative hash, modulo the workers. A classic BPF
     * program computes exactly this ({@code ld [26]; mul #m; rsh #16; mod #n}), so the kernel's fanout and this
     * class agree.
     */
    public static int spread(final int address, final int multiplier, final int workers)
    {
        return ((address * multiplier) >>> 16) % workers;
    }

    /** The worker a frame arrives at (the kernel's choice): spread by the IPv4 source, else the first worker. */
    public static int arrival(final DirectBuffer buffer, final int frame, final int length, final int multiplier,
        final int workers)
    {
        final int l3 = l3(buffer, frame, length);
        if (l3 < 0)
        {
            return 0;
        }
        return spread(buffer.getInt(l3 + Ipv4Flyweight.SOURCE_OFFSET, NetworkOrder.NETWORK_ORDER), multiplier,
            workers);
    }

    /** The IPv4 header's offset of an Ethernet frame (one VLAN tag allowed), or -1 when it is not IPv4. */
    private static int l3(final DirectBuffer buffer, final int frame, final int length)
    {
        if (length < EthernetFlyweight.HEADER_LENGTH + Ipv4Flyweight.MIN_HEADER_LENGTH)
        {
            return -1;
        }
        int type = buffer.getShort(frame + EthernetFlyweight.ETHER_TYPE_OFFSET, NetworkOrder.NETWORK_ORDER) & 0xFFFF;
        int l3 = frame + EthernetFlyweight.HEADER_LENGTH;
        if (type == EthernetFlyweight.TYPE_VLAN)
        {
            type = buffer.getShort(frame + EthernetFlyweight.VLAN_INNER_TYPE_OFFSET, NetworkOrder.NETWORK_ORDER) &
                0xFFFF;
            l3 = frame + EthernetFlyweight.VLAN_HEADER_LENGTH;
        }
        if (type != EthernetFlyweight.TYPE_IPV4 || l3 + Ipv4Flyweight.MIN_HEADER_LENGTH > frame + length ||
            (buffer.getByte(l3) & 0xF0) != 0x40)
        {
            return -1;
        }
        return l3;
    }

    /**
     * The worker that owns this frame ({@link #STAYS} or this worker's index: process it here).
     */
    public int owner(final DirectBuffer buffer, final int frame, final int length)
    {
        final int l3 = l3(buffer, frame, length);
        if (l3 < 0)
        {
            return STAYS;
        }
        final int owner = ipOwner(buffer, l3, frame + length, true);
        return owner < 0 ? STAYS : owner;
    }

    private int ipOwner(final DirectBuffer buffer, final int l3, final int end, final boolean outer)
    {
        final int ihl = (buffer.getByte(l3) & 0x0F) * 4;
        final int protocol = buffer.getByte(l3 + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF;
        final int source = buffer.getInt(l3 + Ipv4Flyweight.SOURCE_OFFSET, NetworkOrder.NETWORK_ORDER);
        final int destination = buffer.getInt(l3 + Ipv4Flyweight.DESTINATION_OFFSET, NetworkOrder.NETWORK_ORDER);
        final int fragment = buffer.getShort(l3 + Ipv4Flyweight.FLAGS_FRAGMENT_OFFSET, NetworkOrder.NETWORK_ORDER);
        final int offset = fragment & 0x1FFF;
        final boolean moreFragments = (fragment & 0x2000) != 0;
        final int l4 = l3 + ihl;
        final ServiceTable table = services.table();
        final NatSettings settings = nat.settings();
        if (offset != 0)
        {
            final int id = buffer.getShort(l3 + Ipv4Flyweight.IDENTIFICATION_OFFSET, NetworkOrder.NETWORK_ORDER) &
                0xFFFF;
            final int slot = fragmentSlot(source, destination, protocol, id);
            if (fragmentKeys[slot] == ((long)source << 32 | destination & 0xFFFF_FFFFL) &&
                fragmentIds[slot] == (protocol << 16 | id) && fragmentOwners[slot] >= 0)
            {
                return fragmentOwners[slot];
            }
            return table.isBackendAddress(source) ? spread(destination, multiplier, workers) : spread(source);
        }
        int owner = spread(source);
        if (ihl >= Ipv4Flyweight.MIN_HEADER_LENGTH && l4 + 8 <= end)
        {
            if (protocol == Ipv4Flyweight.PROTOCOL_TCP || protocol == Ipv4Flyweight.PROTOCOL_UDP)
            {
                final int sourcePort = u16(buffer, l4);
                final int destinationPort = u16(buffer, l4 + 2);
                if (outer && protocol == Ipv4Flyweight.PROTOCOL_UDP && destinationPort == VxlanFlyweight.UDP_PORT &&
                    ports.isLocalAddress(destination))
                {
                    final int inner = l4 + 8 + VxlanFlyweight.HEADER_LENGTH;
                    final int innerL3 = l3(buffer, inner, end - inner);
                    if (innerL3 >= 0)
                    {
                        return ipOwner(buffer, innerL3, end, false);
                    }
                }
                else if (table.lookup(protocol, destination, destinationPort) >= 0)
                {
                    owner = spread(source);
                }
                else if (settings != null && inRange(settings, destinationPort) && ports.isLocalAddress(destination))
                {
                    owner = Nat.sliceOwner(settings.portLow(), settings.portHigh(), destinationPort, workers);
                }
                else if (table.isBackendEndpoint(source, protocol, sourcePort))
                {
                    owner = spread(destination);
                }
            }
            else if (protocol == Ipv4Flyweight.PROTOCOL_ICMP)
            {
                owner = icmpOwner(buffer, l4, end, source, destination, settings, table);
            }
        }
        if (moreFragments)
        {
            final int id = buffer.getShort(l3 + Ipv4Flyweight.IDENTIFICATION_OFFSET, NetworkOrder.NETWORK_ORDER) &
                0xFFFF;
            final int slot = fragmentSlot(source, destination, protocol, id);
            fragmentKeys[slot] = (long)source << 32 | destination & 0xFFFF_FFFFL;
            fragmentIds[slot] = protocol << 16 | id;
            fragmentOwners[slot] = owner;
        }
        return owner;
    }

    private int icmpOwner(final DirectBuffer buffer, final int l4, final int end, final int source,
        final int destination, final NatSettings settings, final ServiceTable table)
    {
        final int type = buffer.getByte(l4) & 0xFF;
        if (settings != null && ports.isLocalAddress(destination))
        {
            if (type == IcmpFlyweight.TYPE_ECHO_REPLY)
            {
                final int id = u16(buffer, l4 + IcmpFlyweight.IDENTIFIER_OFFSET);
                if (inRange(settings, id))
                {
                    return Nat.sliceOwner(settings.portLow(), settings.portHigh(), id, workers);
                }
            }
            else if (type == IcmpFlyweight.TYPE_DESTINATION_UNREACHABLE || type == IcmpFlyweight.TYPE_TIME_EXCEEDED ||
                type == 12)
            {
                // The embedded packet is the translated one we sent: its source port is the mapped port.
                final int inner = l4 + 8;
                if (inner + Ipv4Flyweight.MIN_HEADER_LENGTH + 8 <= end)
                {
                    final int innerL4 = inner + (buffer.getByte(inner) & 0x0F) * 4;
                    final int innerProtocol = buffer.getByte(inner + Ipv4Flyweight.PROTOCOL_OFFSET) & 0xFF;
                    if (innerL4 + 8 <= end)
                    {
                        final int mapped = innerProtocol == Ipv4Flyweight.PROTOCOL_ICMP ?
                            u16(buffer, innerL4 + IcmpFlyweight.IDENTIFIER_OFFSET) :
                            innerProtocol == Ipv4Flyweight.PROTOCOL_TCP ||
                            innerProtocol == Ipv4Flyweight.PROTOCOL_UDP ? u16(buffer, innerL4) : -1;
                        if (mapped >= 0 && inRange(settings, mapped))
                        {
                            return Nat.sliceOwner(settings.portLow(), settings.portHigh(), mapped, workers);
                        }
                    }
                }
            }
        }
        return table.isBackendAddress(source) ? spread(destination) : spread(source);
    }

    private static boolean inRange(final NatSettings settings, final int port)
    {
        return port >= settings.portLow() && port <= settings.portHigh();
    }

    private int spread(final int address)
    {
        return spread(address, multiplier, workers);
    }

    private static int fragmentSlot(final int source, final int destination, final int protocol, final int id)
    {
        int h = (source * 31 + destination) * 31 + (protocol << 16 | id);
        h *= 0x9E3779B1;
        return (h >>> 24) & (FRAGMENT_SLOTS - 1);
    }

    private static int u16(final DirectBuffer buffer, final int at)
    {
        return buffer.getShort(at, NetworkOrder.NETWORK_ORDER) & 0xFFFF;
    }

    /** This dispatcher's worker. */
    public int worker()
    {
        return worker;
    }
}
