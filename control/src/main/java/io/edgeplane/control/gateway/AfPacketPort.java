package io.edgeplane.control.gateway;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.stage.Dataplane;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static io.edgeplane.control.gateway.LinuxPacketSockets.Setup.LIBC;

/**
 * A config port on a Linux AF_PACKET socket, read and written a burst per system call: {@code recvmmsg} writes
 * frames straight into pool slots (zero copy: the iovecs point at the slots), {@code sendmmsg} sends a vector's
 * worth of frames staged off-heap. Bound to one interface, promiscuous, with our own transmissions ignored
 * ({@code PACKET_IGNORE_OUTGOING}). Owned by the worker thread.
 *
 * <pre>
 * struct mmsghdr (64 B, LP64): msg_name 0 | msg_namelen 8 | msg_iov 16 | msg_iovlen 24 | msg_control 32 |
 *                              msg_controllen 40 | msg_flags 48 | msg_len 56
 * struct iovec (16 B): iov_base 0 | iov_len 8          struct sockaddr_ll (20 B): ... sll_pkttype 10 ...
 * </pre>
 */
public final class AfPacketPort implements PortIo
{
    public static final int BURST = 64;
    public static final int SOCKET_BUFFER = 32 << 20;
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int SOCKADDR_LL = 24;
    private static final int STAGE_SLOT = 2048;

    private final int index;
    private final int fd;
    private final PacketPool pool;
    private final long poolAddress;
    private final int[] handles = new int[BURST];
    private final UnsafeBuffer rxMessages = direct(BURST * MMSGHDR);
    private final UnsafeBuffer rxVectors = direct(BURST * IOVEC);
    private final UnsafeBuffer rxNames = direct(BURST * SOCKADDR_LL);
    private final UnsafeBuffer txMessages = direct(BURST * MMSGHDR);
    private final UnsafeBuffer txVectors = direct(BURST * IOVEC);
    private final UnsafeBuffer txStage = direct(BURST * STAGE_SLOT);
    private final Pointer rxMessagesPointer = new Pointer(rxMessages.addressOffset());
    private final Pointer[] txMessagesFrom = new Pointer[BURST];
    private final Memory statistics = new Memory(8);
    private final Memory statisticsLength = new Memory(4);
    private Dataplane dataplane;
    private int staged;
    private long packetIds;
    private long drops;
    private long errors;

    public AfPacketPort(final int index, final String portName, final String device, final PacketPool pool)
        throws GatewayException
    {
        this.index = index;
        this.pool = pool;
        this.poolAddress = pool.buffer().addressOffset();
        int socket = -1;
        try
        {
            final int ifindex = LIBC.if_nametoindex(device);
            if (ifindex == 0)
            {
                // Never bind with index 0: that would listen on every interface.
                throw new GatewayException(portName + ": cannot open device " + device + " (No such device exists)");
            }
            socket = LIBC.socket(LinuxPacketSockets.AF_PACKET, LinuxPacketSockets.SOCK_RAW, 0);
            // Bound before it listens to anything: a socket opened with protocol 0 receives nothing until bind.
            final Memory address = new Memory(SOCKADDR_LL);
            address.clear();
            address.setShort(0, (short)LinuxPacketSockets.AF_PACKET);
            address.setShort(2, LinuxPacketSockets.htons(LinuxPacketSockets.ETH_P_ALL));
            address.setInt(4, ifindex);
            LIBC.bind(socket, address, 20);
            final Memory one = new Memory(4);
            one.setInt(0, 1);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_IGNORE_OUTGOING, one, 4);
            final Memory membership = new Memory(16);
            membership.clear();
            membership.setInt(0, ifindex);
            membership.setShort(4, (short)LinuxPacketSockets.PACKET_MR_PROMISC);
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_ADD_MEMBERSHIP,
                membership, 16);
            final Memory size = new Memory(4);
            size.setInt(0, SOCKET_BUFFER);
            setBuffer(socket, LinuxPacketSockets.SO_RCVBUFFORCE, LinuxPacketSockets.SO_RCVBUF, size);
            setBuffer(socket, LinuxPacketSockets.SO_SNDBUFFORCE, LinuxPacketSockets.SO_SNDBUF, size);
        }
        catch (final LastErrorException ex)
        {
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
        for (int i = 0; i < BURST; i++)
        {
            handles[i] = PacketPool.NO_PACKET;
            final int message = i * MMSGHDR;
            rxMessages.putLong(message, rxNames.addressOffset() + (long)i * SOCKADDR_LL);
            rxMessages.putLong(message + 16, rxVectors.addressOffset() + (long)i * IOVEC);
            rxMessages.putLong(message + 24, 1);
            txMessages.putLong(message + 16, txVectors.addressOffset() + (long)i * IOVEC);
            txMessages.putLong(message + 24, 1);
            txVectors.putLong(i * IOVEC, txStage.addressOffset() + (long)i * STAGE_SLOT);
            txMessagesFrom[i] = new Pointer(txMessages.addressOffset() + (long)i * MMSGHDR);
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
            // Without CAP_NET_ADMIN the kernel caps the plain option at its rmem_max/wmem_max: good enough.
            LIBC.setsockopt(socket, LinuxPacketSockets.SOL_SOCKET, plain, size, 4);
        }
    }

    private static UnsafeBuffer direct(final int bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(bytes, 64));
        buffer.setMemory(0, bytes, (byte)0);
        return buffer;
    }

    @Override
    public void attach(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
    }

    @Override
    public int poll()
    {
        int ready = 0;
        while (ready < BURST)
        {
            if (handles[ready] == PacketPool.NO_PACKET)
            {
                final int h = pool.allocate();
                if (h == PacketPool.NO_PACKET)
                {
                    break;
                }
                handles[ready] = h;
                rxVectors.putLong(ready * IOVEC, poolAddress + pool.frameOffset(h));
                rxVectors.putLong(ready * IOVEC + 8, pool.maxFrameLength());
            }
            rxMessages.putInt(ready * MMSGHDR + 8, SOCKADDR_LL);
            ready++;
        }
        if (ready == 0)
        {
            return 0;
        }
        final int received = LinuxPacketSockets.recvmmsg(fd, rxMessagesPointer, ready,
            LinuxPacketSockets.MSG_DONTWAIT, null);
        if (received <= 0)
        {
            return 0;
        }
        final long now = System.nanoTime();
        int accepted = 0;
        for (int i = 0; i < received; i++)
        {
            final int h = handles[i];
            final int message = i * MMSGHDR;
            final int length = rxMessages.getInt(message + 56);
            final boolean truncated = (rxMessages.getInt(message + 48) & LinuxPacketSockets.MSG_TRUNC) != 0;
            final int packetType = rxNames.getByte(i * SOCKADDR_LL + 10) & 0xFF;
            if (packetType == LinuxPacketSockets.PACKET_OUTGOING)
            {
                continue;
            }
            handles[i] = PacketPool.NO_PACKET;
            dataplane.receiveSlot(index, h, truncated ? Integer.MAX_VALUE : length, ++packetIds, now);
            accepted++;
        }
        // Slots consumed from the front: move the still-allocated ones down so the next burst starts at 0.
        int kept = 0;
        for (int i = 0; i < BURST; i++)
        {
            if (handles[i] != PacketPool.NO_PACKET)
            {
                final int h = handles[i];
                handles[i] = PacketPool.NO_PACKET;
                handles[kept] = h;
                rxVectors.putLong(kept * IOVEC, poolAddress + pool.frameOffset(h));
                rxVectors.putLong(kept * IOVEC + 8, pool.maxFrameLength());
                kept++;
            }
        }
        return accepted;
    }

    @Override
    public void send(final PacketPool from, final int h)
    {
        final int length = from.frameLength(h);
        if (length > STAGE_SLOT)
        {
            errors++;
            return;
        }
        from.buffer().getBytes(from.frameOffset(h), txStage, staged * STAGE_SLOT, length);
        txVectors.putLong(staged * IOVEC + 8, length);
        staged++;
        if (staged == BURST)
        {
            flush();
        }
    }

    @Override
    public void flush()
    {
        int sent = 0;
        int attempts = 0;
        while (sent < staged && attempts++ < 4)
        {
            final int result = LinuxPacketSockets.sendmmsg(fd, txMessagesFrom[sent], staged - sent,
                LinuxPacketSockets.MSG_DONTWAIT);
            if (result <= 0)
            {
                break;
            }
            sent += result;
        }
        errors += staged - sent;
        staged = 0;
    }

    @Override
    public long captureDrops()
    {
        try
        {
            statisticsLength.setInt(0, 8);
            LIBC.getsockopt(fd, LinuxPacketSockets.SOL_PACKET, LinuxPacketSockets.PACKET_STATISTICS, statistics,
                statisticsLength);
            // tpacket_stats {tp_packets, tp_drops}: reading resets them, so accumulate.
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
        return errors;
    }

    @Override
    public void close()
    {
        for (int i = 0; i < BURST; i++)
        {
            if (handles[i] != PacketPool.NO_PACKET)
            {
                pool.free(handles[i]);
                handles[i] = PacketPool.NO_PACKET;
            }
        }
        LIBC.close(fd);
    }
}
