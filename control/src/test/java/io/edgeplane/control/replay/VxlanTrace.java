package io.edgeplane.control.replay;

import io.edgeplane.testing.Frames;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.edgeplane.testing.Frames.ip;

/**
 * Writes {@code pcaps/vxlan/trace.pcapng}: a local pod on Port1 and the other node (10.3.0.2, VNI 42) on Port3, as
 * two pcapng interfaces named after the ports, with one example of each tunnel decision: encapsulation of UDP and
 * TCP, decapsulation to the local pod, ARP through the tunnel (and the learned VTEP used next), ping to the
 * gateway's tunnel address, a bad flags byte, an unknown VNI, and a DF packet too big for the tunnel MTU.
 */
public final class VxlanTrace
{
    static final long POD_MAC = Frames.mac("02:00:00:00:01:05");
    static final long PORT1_MAC = Frames.mac("02:00:00:00:01:01");
    static final long PORT3_MAC = Frames.mac("02:00:00:00:03:01");
    static final long NODE2_MAC = Frames.mac("02:00:00:00:03:02");
    static final long TUNNEL_MAC = Frames.mac("02:00:00:00:42:01");
    static final long REMOTE_MAC = Frames.mac("02:00:00:00:42:02");
    static final long NEWCOMER_MAC = Frames.mac("02:00:00:00:42:09");

    /** One captured frame: the interface (0 = Port1, 1 = Port3) and the bytes. */
    record Captured(int iface, byte[] frame)
    {
    }

    private VxlanTrace()
    {
    }

    private static byte[] fromPod(final int destination, final int protocol, final byte[] l4, final int flags)
    {
        return Frames.ethernet(PORT1_MAC, POD_MAC, Frames.ETH_IPV4,
            Frames.ipv4(ip("10.244.1.5"), destination, protocol, 64, flags, l4));
    }

    private static byte[] fromNode2(final byte[] inner, final int flagsByte, final int vni)
    {
        return Frames.vxlanFrame(PORT3_MAC, NODE2_MAC, ip("10.3.0.2"), ip("10.3.0.1"), flagsByte, vni, inner);
    }

    private static byte[] innerIp(final int source, final int destination, final int protocol, final byte[] l4)
    {
        return Frames.ethernet(TUNNEL_MAC, REMOTE_MAC, Frames.ETH_IPV4,
            Frames.ipv4(source, destination, protocol, 64, 0, l4));
    }

    static List<Captured> frames()
    {
        final List<Captured> frames = new ArrayList<>();
        final int remotePod = ip("10.244.2.7");
        final int pod = ip("10.244.1.5");
        frames.add(new Captured(0, fromPod(remotePod, 17, Frames.udp(pod, remotePod, 40000, 7000, new byte[18]),
            0x4000)));
        frames.add(new Captured(0, fromPod(remotePod, 6, Frames.tcp(pod, remotePod, 40001, 80, 0x02, new byte[0]),
            0x4000)));
        frames.add(new Captured(1, fromNode2(innerIp(remotePod, pod, 17,
            Frames.udp(remotePod, pod, 7000, 40000, new byte[18])), 0x08, 42)));
        frames.add(new Captured(1, fromNode2(Frames.ethernet(0xFFFF_FFFF_FFFFL, NEWCOMER_MAC, 0x0806,
            Frames.arp(1, NEWCOMER_MAC, ip("192.168.42.9"), 0, ip("192.168.42.1"))), 0x08, 42)));
        frames.add(new Captured(0, fromPod(ip("192.168.42.9"), 1, Frames.icmpEcho(8, 7, 1, new byte[16]), 0)));
        frames.add(new Captured(1, fromNode2(innerIp(ip("192.168.42.2"), ip("192.168.42.1"), 1,
            Frames.icmpEcho(8, 9, 1, new byte[16])), 0x08, 42)));
        frames.add(new Captured(1, fromNode2(innerIp(remotePod, pod, 17,
            Frames.udp(remotePod, pod, 7000, 40000, new byte[18])), 0x00, 42)));
        frames.add(new Captured(1, fromNode2(innerIp(remotePod, pod, 17,
            Frames.udp(remotePod, pod, 7000, 40000, new byte[18])), 0x08, 43)));
        frames.add(new Captured(0, fromPod(remotePod, 17, Frames.udp(pod, remotePod, 40002, 7000,
            new byte[1480 - 28]), 0x4000)));
        return frames;
    }

    /** Write the frames as pcapng: a section, interfaces "Port1" and "Port3", an enhanced packet block each. */
    public static void write(final Path path) throws IOException
    {
        final ByteBuffer out = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0x0A0D0D0A).putInt(28).putInt(0x1A2B3C4D).putShort((short)1).putShort((short)0).putLong(-1L)
            .putInt(28);
        for (final String name : new String[] {"Port1", "Port3"})
        {
            final byte[] text = name.getBytes(StandardCharsets.US_ASCII);
            final int option = 4 + (text.length + 3) / 4 * 4;
            final int length = 20 + option + 4;
            out.putInt(1).putInt(length).putShort((short)1).putShort((short)0).putInt(0)
                .putShort((short)2).putShort((short)text.length).put(text);
            out.position(out.position() + (4 - text.length % 4) % 4);
            out.putShort((short)0).putShort((short)0).putInt(length);
        }
        long micros = 1_700_000_000_000_000L;
        for (final Captured captured : frames())
        {
            final int padded = (captured.frame().length + 3) / 4 * 4;
            final int length = 32 + padded;
            out.putInt(6).putInt(length).putInt(captured.iface()).putInt((int)(micros >>> 32)).putInt((int)micros)
                .putInt(captured.frame().length).putInt(captured.frame().length).put(captured.frame());
            out.position(out.position() + padded - captured.frame().length);
            out.putInt(length);
            micros += 1000;
        }
        final byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        Files.write(path, bytes);
    }
}
