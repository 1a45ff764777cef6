package io.edgeplane.control.gateway;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.ReceiveOffloads;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static io.edgeplane.control.gateway.LinuxPacketSockets.Setup.LIBC;

/**
 * A config port on a Linux AF_PACKET socket. Receive reads a {@code TPACKET_V3} ring mapped into our memory: the
 * kernel copies frames into ring blocks in its receive path (on whichever core took the interrupt), and the worker
 * copies each frame from the ring into a pool slot without a system call; frames a peer left with a partial
 * checksum (TP_STATUS_CSUMNOTREADY) or sent as TCP super-frames (TSO/GSO) are completed and segmented on the way
 * ({@link ReceiveOffloads}). Transmit copies frames into a {@link PacketTxRing} and makes one system call per
 * vector. Bound to one interface, promiscuous, with outgoing frames ignored ({@code PACKET_IGNORE_OUTGOING}). Owned
 * by the worker thread.
 *
 * <pre>
 * ring block:  tpacket_block_desc { version 0 | offset_to_priv 4 | block_status 8 | num_pkts 12 |
 *                                   offset_to_first_pkt 16 | blk_len 20 | seq_num 24 | ... }
 * packet:      tpacket3_hdr { tp_next_offset 0 | tp_sec 4 | tp_nsec 8 | tp_snaplen 12 | tp_len 16 |
 *                             tp_status 20 | tp_mac 24 (u16) | tp_net 26 (u16) | ... }
 * </pre>
 */
public final class AfPacketPort implements PortIo
{
    public static final int BURST = 64;
    public static final int BLOCK_SIZE = 1 << 18;
    public static final int BLOCK_COUNT = 128;
    public static final int SOCKET_BUFFER = 32 << 20;
    private static final int FRAME_SIZE = 2048;
    private static final int RETIRE_BLOCK_MILLIS = 1;
    private static final int SOCKADDR_LL = 20;

    private final int index;
    private final int fd;
    private final Pointer ringAddress;
    private final UnsafeBuffer ring;
    private final Memory statistics = new Memory(12);
    private final Memory statisticsLength = new Memory(4);
    private final int mtu;
    private final PacketTxRing tx;
    private Dataplane dataplane;
    private ReceiveOffloads offloads;
    private int block;
    private long packetIds;
    private long drops;
    private long errors;

    public AfPacketPort(final int index, final String portName, final String device, final int mtu)
        throws GatewayException
    {
        this(index, portName, device, mtu, null);
    }

    /** A port's socket for one of several workers: it joins the port's fanout group (in worker order). */
    public record Fanout(int group, int multiplier)
    {
    }

    public AfPacketPort(final int index, final String portName, final String device, final int mtu,
        final Fanout fanout) throws GatewayException
    {
        this.index = index;
        this.mtu = mtu;
        int socket = -1;
        Pointer mapped = null;
        try
        {
            final int ifindex = LIBC.if_nametoindex(device);
            if (ifindex == 0)
            {
                // Never bind with index 0: that would listen on every interface.
                throw new GatewayException(portName + ": cannot open device " + device + " (No such device exists)");
            }
            socket = LIBC.socket(LinuxPacketSockets.AF_PACKET, LinuxPacketSockets.SOCK_RAW, 0);
            final Memory value = new Memory(4);
            value.setInt(0, LinuxPacketSockets.TPACKET_V3);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_VERSION, value, 4);
            final Memory request = new Memory(28);
            request.setInt(0, BLOCK_SIZE);
            request.setInt(4, BLOCK_COUNT);
            request.setInt(8, FRAME_SIZE);
            request.setInt(12, BLOCK_SIZE / FRAME_SIZE * BLOCK_COUNT);
            request.setInt(16, RETIRE_BLOCK_MILLIS);
            request.setInt(20, 0);
            request.setInt(24, 0);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_RX_RING, request, 28);
            mapped = LIBC.mmap(null, (long)BLOCK_SIZE * BLOCK_COUNT,
                LinuxPacketSockets.PROT_READ | LinuxPacketSockets.PROT_WRITE, LinuxPacketSockets.MAP_SHARED, socket, 0);
            value.setInt(0, 1);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_IGNORE_OUTGOING,
                value, 4);
            // Bound last: a socket opened with protocol 0 receives nothing until bind names the interface.
            final Memory address = new Memory(SOCKADDR_LL);
            address.clear();
            address.setShort(0, (short)LinuxPacketSockets.AF_PACKET);
            address.setShort(2, LinuxPacketSockets.htons(LinuxPacketSockets.ETH_P_ALL));
            address.setInt(4, ifindex);
            LIBC.bind(socket, address, SOCKADDR_LL);
            final Memory membership = new Memory(16);
            membership.clear();
            membership.setInt(0, ifindex);
            membership.setShort(4, (short)LinuxPacketSockets.PACKET_MR_PROMISC);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_ADD_MEMBERSHIP,
                membership, 16);
            if (fanout != null)
            {
                LinuxPacketSockets.joinFanout(socket, fanout.group(), fanout.multiplier());
            }
            value.setInt(0, SOCKET_BUFFER);
            setBuffer(socket, LinuxPacketSockets.SO_SNDBUFFORCE, LinuxPacketSockets.SO_SNDBUF, value);
        }
        catch (final LastErrorException ex)
        {
            if (mapped != null)
            {
                LIBC.munmap(mapped, (long)BLOCK_SIZE * BLOCK_COUNT);
            }
            if (socket >= 0)
            {
                LIBC.close(socket);
            }
            final String reason = LIBC.strerror(ex.getErrorCode());
            throw new GatewayException(portName + ": cannot open device " + device + " (" +
                (ex.getErrorCode() == 19 ? "No such device exists" : reason) + ")" +
                (ex.getErrorCode() == 1 ? "; run as root or grant CAP_NET_RAW" : ""));
        }
        catch (final UnsatisfiedLinkError ex)
        {
            throw new GatewayException("AF_PACKET needs Linux and libc (" + ex.getMessage() + "); try --io pcap");
        }
        this.fd = socket;
        this.ringAddress = mapped;
        this.ring = new UnsafeBuffer(Pointer.nativeValue(mapped), BLOCK_SIZE * BLOCK_COUNT);
        try
        {
            this.tx = new PacketTxRing(LIBC.if_nametoindex(device));
        }
        catch (final LastErrorException ex)
        {
            close();
            throw new GatewayException(portName + ": cannot open a transmit ring on " + device + " (" +
                LIBC.strerror(ex.getErrorCode()) + ")");
        }
    }

    private static void setBuffer(final int socket, final int force, final int plain, final Memory size)
    {
        try
        {
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_SOCKET, force, size, 4);
        }
        catch (final LastErrorException ex)
        {
            // Without CAP_NET_ADMIN the kernel caps the plain option at its wmem_max: good enough.
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_SOCKET, plain, size, 4);
        }
    }

    @Override
    public void attach(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
        this.offloads = new ReceiveOffloads(dataplane);
    }

    /** Reads every frame of the next ready block (the kernel retires a block when full or after 1 ms). */
    @Override
    public int poll()
    {
        final int base = block * BLOCK_SIZE;
        if ((ring.getIntVolatile(base + 8) & LinuxPacketSockets.TP_STATUS_USER) == 0)
        {
            return 0;
        }
        final int packets = ring.getInt(base + 12);
        int offset = base + ring.getInt(base + 16);
        final long now = System.nanoTime();
        for (int i = 0; i < packets; i++)
        {
            final int snapLength = ring.getInt(offset + 12);
            final int wireLength = ring.getInt(offset + 16);
            final int mac = ring.getShort(offset + 24) & 0xFFFF;
            if (snapLength == wireLength)
            {
                final boolean partial = (ring.getInt(offset + 20) & LinuxPacketSockets.TP_STATUS_CSUMNOTREADY) != 0;
                packetIds += offloads.receive(index, ring, offset + mac, snapLength, partial, mtu, packetIds + 1,
                    now);
            }
            else
            {
                errors++;
            }
            offset += ring.getInt(offset);
        }
        // Hand the block back to the kernel only after every frame in it was copied out.
        ring.putIntOrdered(base + 8, LinuxPacketSockets.TP_STATUS_KERNEL);
        block = block + 1 == BLOCK_COUNT ? 0 : block + 1;
        return packets;
    }

    @Override
    public void send(final PacketPool from, final int h)
    {
        if (!tx.offer(from.buffer(), from.frameOffset(h), from.frameLength(h)))
        {
            // Not sent is not transmitted: counted as an error, taken off the tx counters.
            errors++;
            dataplane.txFailed(index, 1, from.frameLength(h));
        }
    }

    /** One system call per vector: the kernel sends every frame queued in the ring. */
    @Override
    public void flush()
    {
        if (!tx.kick())
        {
            errors++;
        }
    }

    @Override
    public long captureDrops()
    {
        try
        {
            statisticsLength.setInt(0, 12);
            LIBC.getsockopt(fd, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_STATISTICS, statistics,
                statisticsLength);
            // tpacket_stats_v3 {tp_packets, tp_drops, tp_freeze_q_cnt}: reading resets them, so accumulate.
            drops += statistics.getInt(4) & 0xFFFF_FFFFL;
        }
        catch (final LastErrorException ex)
        {
            errors++;
        }
        return drops;
    }

    @Override
    public long errors()
    {
        return errors + tx.wrongFormat();
    }

    @Override
    public void close()
    {
        if (tx != null)
        {
            tx.close();
        }
        LIBC.munmap(ringAddress, (long)BLOCK_SIZE * BLOCK_COUNT);
        LIBC.close(fd);
    }
}
