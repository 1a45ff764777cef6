package io.edgeplane.control.gateway;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls an AF_PACKET port needs. The per-vector call ({@code send} kicking the transmit ring) is a JNA
 * direct mapping (no per-call reflection, no errno capture: -1 simply counts as "failed"); the set-up calls go
 * through an interface mapping that reports errno as {@link LastErrorException}. Receiving needs no call at all: it
 * reads the mmap ring.
 */
final class LinuxPacketSockets
{
    static final int AF_PACKET = 17;
    static final int SOCK_RAW = 3;
    static final int ETH_P_ALL = 0x0003;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVBUF = 8;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUFFORCE = 33;
    static final int SO_SNDBUFFORCE = 32;
    static final int SOL_PACKET = 263;
    static final int PACKET_ADD_MEMBERSHIP = 1;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_TX_RING = 13;
    static final int PACKET_QDISC_BYPASS = 20;
    static final int PACKET_FANOUT = 18;
    static final int PACKET_FANOUT_DATA = 22;
    static final int PACKET_FANOUT_CBPF = 6;
    static final int TPACKET_V2 = 1;
    static final int TP_STATUS_AVAILABLE = 0;
    static final int TP_STATUS_SEND_REQUEST = 1;
    static final int TP_STATUS_SENDING = 2;
    static final int TP_STATUS_WRONG_FORMAT = 4;
    static final int PACKET_VERSION = 10;
    static final int TPACKET_V3 = 2;
    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;
    /** The frame's transport checksum is to be filled in by "the hardware" (CHECKSUM_PARTIAL). */
    static final int TP_STATUS_CSUMNOTREADY = 8;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int PACKET_STATISTICS = 6;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int PACKET_MR_PROMISC = 1;
    static final int PACKET_OUTGOING = 4;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_TRUNC = 0x20;

    static
    {
        Native.register(LinuxPacketSockets.class, Platform.C_LIBRARY_NAME);
    }

    private LinuxPacketSockets()
    {
    }

    /** With a null buffer and length 0 on a socket with a TX ring: send every frame marked SEND_REQUEST. */
    static native long send(int fd, Pointer buffer, long length, int flags);

    /** Set-up calls, with errno. */
    interface Setup extends Library
    {
        Setup LIBC = Native.load(Platform.C_LIBRARY_NAME, Setup.class);

        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, Pointer address, int length) throws LastErrorException;

        int setsockopt(int fd, int level, int name, Pointer value, int length) throws LastErrorException;

        int getsockopt(int fd, int level, int name, Pointer value, Pointer length) throws LastErrorException;

        int if_nametoindex(String name) throws LastErrorException;

        Pointer mmap(Pointer address, long length, int protection, int flags, int fd, long offset)
            throws LastErrorException;

        int munmap(Pointer address, long length) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        String strerror(int errno);
    }

    static short htons(final int value)
    {
        return (short)(((value & 0xFF) << 8) | ((value >>> 8) & 0xFF));
    }

    /**
     * Join fanout group {@code group} of a bound socket, spreading frames with a classic BPF program that computes
     * {@link io.edgeplane.stage.FlowDispatch#spread}: the IPv4 source (read relative to the network header, so the
     * program does not depend on where the skb's data starts) times {@code multiplier}, upper half; the kernel takes
     * it modulo the group's members, which join in worker order. Anything not IPv4 goes to the first member.
     */
    static void joinFanout(final int socket, final int group, final int multiplier)
    {
        final int[][] program = {
            {0x28, 0, 0, 0xFFFFF000},          // ldh [SKF_AD_OFF + SKF_AD_PROTOCOL]
            {0x15, 0, 4, 0x0800},              // jeq #ETH_P_IP, next, else ret #0
            {0x20, 0, 0, 0xFFF00000 + 12},     // ld [SKF_NET_OFF + 12]: the IPv4 source
            {0x24, 0, 0, multiplier},          // mul #multiplier
            {0x74, 0, 0, 16},                  // rsh #16
            {0x16, 0, 0, 0},                   // ret a (the kernel takes it modulo the members)
            {0x06, 0, 0, 0},                   // ret #0
        };
        final com.sun.jna.Memory filter = new com.sun.jna.Memory(8L * program.length);
        for (int i = 0; i < program.length; i++)
        {
            filter.setShort(8L * i, (short)program[i][0]);
            filter.setByte(8L * i + 2, (byte)program[i][1]);
            filter.setByte(8L * i + 3, (byte)program[i][2]);
            filter.setInt(8L * i + 4, program[i][3]);
        }
        final com.sun.jna.Memory value = new com.sun.jna.Memory(4);
        value.setInt(0, group & 0xFFFF | PACKET_FANOUT_CBPF << 16);
        Setup.LIBC.setsockopt(socket, SOL_PACKET, PACKET_FANOUT, value, 4);
        final com.sun.jna.Memory fprog = new com.sun.jna.Memory(16);
        fprog.clear();
        fprog.setShort(0, (short)program.length);
        fprog.setPointer(8, filter);
        Setup.LIBC.setsockopt(socket, SOL_PACKET, PACKET_FANOUT_DATA, fprog, 16);
    }
}
