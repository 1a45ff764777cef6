package io.edgeplane.control.replay;

import io.edgeplane.testing.Frames;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.edgeplane.testing.Frames.ip;

/**
 * Writes {@code pcaps/nat/inside.pcap} (the internal switch, Port4) and {@code pcaps/nat/outside.pcap} (the
 * uplink, Port2), replayed together ({@code --in Port4=inside.pcap --in Port2=outside.pcap}) and merged by time:
 * a DNS query and its answer, a TCP handshake, a ping and its reply, an unsolicited inbound SYN, an ICMP time
 * exceeded about the DNS flow from the next router, a second host on the same source port, a hairpin between the two
 * hosts, a fragmented datagram whose second fragment comes first, and an answer arriving after the UDP mapping
 * expired (300 s idle).
 */
public final class NatTrace
{
    static final long PORT2_MAC = Frames.mac("02:00:00:00:02:01");
    static final long PORT4_MAC = Frames.mac("02:00:00:00:04:01");
    static final long ROUTER_MAC = Frames.mac("02:00:00:00:02:fe");
    static final long HOST_A_MAC = Frames.mac("02:00:00:00:04:02");
    static final long HOST_B_MAC = Frames.mac("02:00:00:00:04:03");
    static final int HOST_A = ip("10.4.0.2");
    static final int HOST_B = ip("10.4.0.3");
    static final int OUTSIDE = ip("10.2.0.1");
    static final int SERVER = ip("198.51.100.7");
    static final int ROUTER = ip("10.2.0.254");
    static final long START_NANOS = 1_700_000_000_000_000_000L;
    static final long MS = 1_000_000L;

    /** A frame, when it was captured, and on which side. */
    record Captured(boolean inside, long nanos, byte[] frame)
    {
    }

    private NatTrace()
    {
    }

    private static byte[] fromInside(final long mac, final int source, final int destination, final int protocol,
        final byte[] l4)
    {
        return Frames.ethernet(PORT4_MAC, mac, Frames.ETH_IPV4, Frames.ipv4(source, destination, protocol, 64, 0x4000,
            l4));
    }

    private static byte[] fromOutside(final int source, final int destination, final int protocol, final byte[] l4)
    {
        return Frames.ethernet(PORT2_MAC, ROUTER_MAC, Frames.ETH_IPV4, Frames.ipv4(source, destination, protocol, 58,
            0, l4));
    }

    static List<Captured> frames()
    {
        final List<Captured> frames = new ArrayList<>();
        final byte[] query = Frames.udp(HOST_A, SERVER, 5555, 53, Frames.payload(30, 1));
        frames.add(new Captured(true, MS, fromInside(HOST_A_MAC, HOST_A, SERVER, 17, query)));
        frames.add(new Captured(false, 2 * MS, fromOutside(SERVER, OUTSIDE, 17,
            Frames.udp(SERVER, OUTSIDE, 53, 5555, Frames.payload(60, 2)))));
        frames.add(new Captured(true, 3 * MS, fromInside(HOST_A_MAC, HOST_A, SERVER, 6,
            Frames.tcp(HOST_A, SERVER, 40000, 80, 0x02, new byte[0]))));
        frames.add(new Captured(false, 4 * MS, fromOutside(SERVER, OUTSIDE, 6,
            Frames.tcp(SERVER, OUTSIDE, 80, 40000, 0x12, new byte[0]))));
        frames.add(new Captured(true, 5 * MS, fromInside(HOST_A_MAC, HOST_A, SERVER, 6,
            Frames.tcp(HOST_A, SERVER, 40000, 80, 0x10, new byte[0]))));
        frames.add(new Captured(true, 6 * MS, fromInside(HOST_A_MAC, HOST_A, SERVER, 1,
            Frames.icmpEcho(8, 4242, 1, Frames.payload(32, 3)))));
        frames.add(new Captured(false, 7 * MS, fromOutside(SERVER, OUTSIDE, 1,
            Frames.icmpEcho(0, 4242, 1, Frames.payload(32, 3)))));
        frames.add(new Captured(false, 8 * MS, fromOutside(ip("203.0.113.9"), OUTSIDE, 6,
            Frames.tcp(ip("203.0.113.9"), OUTSIDE, 5000, 22, 0x02, new byte[0]))));
        // Time exceeded from the next router about the query as the gateway sent it (translated, TTL 1 there).
        final byte[] sentQuery = Frames.ipv4(OUTSIDE, SERVER, 17, 1, 0x4000,
            Frames.udp(OUTSIDE, SERVER, 5555, 53, Frames.payload(30, 1)));
        final ByteBuffer error = ByteBuffer.allocate(8 + 28);
        error.put((byte)11).put((byte)0).putShort((short)0).putInt(0).put(sentQuery, 0, 28);
        final byte[] icmp = error.array();
        final int sum = Frames.naiveChecksum(icmp, 0, icmp.length, 0);
        icmp[2] = (byte)(sum >>> 8);
        icmp[3] = (byte)sum;
        frames.add(new Captured(false, 9 * MS, fromOutside(ROUTER, OUTSIDE, 1, icmp)));
        frames.add(new Captured(true, 10 * MS, fromInside(HOST_B_MAC, HOST_B, SERVER, 17,
            Frames.udp(HOST_B, SERVER, 5555, 53, Frames.payload(30, 4)))));
        frames.add(new Captured(true, 11 * MS, fromInside(HOST_B_MAC, HOST_B, OUTSIDE, 17,
            Frames.udp(HOST_B, OUTSIDE, 6000, 5555, Frames.payload(10, 5)))));
        // A fragmented datagram whose second fragment arrives first: held, then sent on translated after the first.
        final byte[] datagram = Frames.udp(HOST_A, SERVER, 5556, 53, Frames.payload(40, 7));
        frames.add(new Captured(true, 12 * MS, Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4,
            Frames.ipv4(HOST_A, SERVER, 17, 64, 3, java.util.Arrays.copyOfRange(datagram, 24, datagram.length)))));
        frames.add(new Captured(true, 13 * MS, Frames.ethernet(PORT4_MAC, HOST_A_MAC, Frames.ETH_IPV4,
            Frames.ipv4(HOST_A, SERVER, 17, 64, 0x2000, java.util.Arrays.copyOfRange(datagram, 0, 24)))));
        frames.add(new Captured(false, 400_000 * MS, fromOutside(SERVER, OUTSIDE, 17,
            Frames.udp(SERVER, OUTSIDE, 53, 5555, Frames.payload(60, 6)))));
        return frames;
    }

    /** Write {@code inside.pcap} and {@code outside.pcap} into {@code directory}. */
    public static void write(final Path directory) throws TraceFileException
    {
        try (PcapWriter inside = new PcapWriter(directory.resolve("inside.pcap"));
            PcapWriter outside = new PcapWriter(directory.resolve("outside.pcap")))
        {
            for (final Captured captured : frames())
            {
                (captured.inside() ? inside : outside).write(captured.frame(), START_NANOS + captured.nanos());
            }
        }
    }
}
