package io.edgeplane.control.gateway;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static io.edgeplane.control.gateway.LinuxPacketSockets.Setup.LIBC;

/**
 * Transmit through a memory-mapped {@code PACKET_TX_RING} (TPACKET_V2, on a socket of its own bound with protocol 0,
 * so it receives nothing): a frame is copied into the next free ring slot and marked {@code SEND_REQUEST}; one
 * {@code send(fd, NULL, 0)} per vector makes the kernel transmit every marked slot, and it hands each back
 * ({@code AVAILABLE}) once sent. No {@code msghdr} per frame, no copy through a socket buffer API, and the qdisc is
 * bypassed (a router's egress queue is the device's). Owned by the worker thread.
 *
 * <pre>
 * slot (2048 B): tpacket2_hdr { tp_status 0 | tp_len 4 | tp_snaplen 8 | tp_mac 12 | tp_net 14 | ... } (32 B)
 *                frame at 32 (TPACKET2_HDRLEN - sizeof(sockaddr_ll))
 * </pre>
 */
final class PacketTxRing implements AutoCloseable
{
    static final int FRAME_SIZE = 2048;
    static final int BLOCK_SIZE = 1 << 16;
    static final int BLOCK_COUNT = 64;
    static final int FRAMES = BLOCK_SIZE / FRAME_SIZE * BLOCK_COUNT;
    static final int DATA_OFFSET = 32;
    static final int MAX_FRAME = FRAME_SIZE - DATA_OFFSET;
    private static final int SOCKADDR_LL = 20;

    private final int fd;
    private final Pointer mapped;
    private final UnsafeBuffer ring;
    private int next;
    private int pending;
    private long wrongFormat;

    PacketTxRing(final int ifindex) throws LastErrorException
    {
        int socket = -1;
        Pointer memory = null;
        try
        {
            socket = LIBC.socket(LinuxPacketSockets.AF_PACKET, LinuxPacketSockets.SOCK_RAW, 0);
            final Memory value = new Memory(4);
            value.setInt(0, LinuxPacketSockets.TPACKET_V2);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_VERSION, value, 4);
            value.setInt(0, 1);
            try
            {
                LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_QDISC_BYPASS,
                    value, 4);
            }
            catch (final LastErrorException ignored)
            {
                // An old kernel: frames go through the qdisc, as with sendmmsg.
            }
            final Memory request = new Memory(16);
            request.setInt(0, BLOCK_SIZE);
            request.setInt(4, BLOCK_COUNT);
            request.setInt(8, FRAME_SIZE);
            request.setInt(12, FRAMES);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_TX_RING, request, 16);
            memory = LIBC.mmap(null, (long)BLOCK_SIZE * BLOCK_COUNT,
                LinuxPacketSockets.PROT_READ | LinuxPacketSockets.PROT_WRITE, LinuxPacketSockets.MAP_SHARED, socket, 0);
            final Memory address = new Memory(SOCKADDR_LL);
            address.clear();
            address.setShort(0, (short)LinuxPacketSockets.AF_PACKET);
            address.setInt(4, ifindex);
            LIBC.bind(socket, address, SOCKADDR_LL);
        }
        catch (final LastErrorException ex)
        {
            if (memory != null)
            {
                LIBC.munmap(memory, (long)BLOCK_SIZE * BLOCK_COUNT);
            }
            if (socket >= 0)
            {
                LIBC.close(socket);
            }
            throw ex;
        }
        this.fd = socket;
        this.mapped = memory;
        this.ring = new UnsafeBuffer(Pointer.nativeValue(memory), BLOCK_SIZE * BLOCK_COUNT);
    }

    /**
     * Copy a frame into the next slot and mark it for sending.
     *
     * @return false when the frame is too long or the ring is full (the kernel has not sent the oldest yet).
     */
    boolean offer(final DirectBuffer source, final int offset, final int length)
    {
        if (length > MAX_FRAME)
        {
            return false;
        }
        final int slot = next * FRAME_SIZE;
        final int status = ring.getIntVolatile(slot);
        if (status != LinuxPacketSockets.TP_STATUS_AVAILABLE)
        {
            if (status != LinuxPacketSockets.TP_STATUS_WRONG_FORMAT)
            {
                return false;
            }
            wrongFormat++;
        }
        ring.putBytes(slot + DATA_OFFSET, source, offset, length);
        ring.putInt(slot + 4, length);
        // Release: the kernel must see the frame and its length before the status that hands it over.
        ring.putIntOrdered(slot, LinuxPacketSockets.TP_STATUS_SEND_REQUEST);
        next = next + 1 == FRAMES ? 0 : next + 1;
        pending++;
        return true;
    }

    /** Have the kernel send every slot marked since the last call; returns false when the call failed. */
    boolean kick()
    {
        if (pending == 0)
        {
            return true;
        }
        pending = 0;
        return LinuxPacketSockets.send(fd, null, 0, LinuxPacketSockets.MSG_DONTWAIT) >= 0;
    }

    /** Slots the kernel refused as malformed (seen when they came round again). */
    long wrongFormat()
    {
        return wrongFormat;
    }

    @Override
    public void close()
    {
        LIBC.munmap(mapped, (long)BLOCK_SIZE * BLOCK_COUNT);
        LIBC.close(fd);
    }
}
