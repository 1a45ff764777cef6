package io.edgeplane.testing;

import java.nio.ByteBuffer;

/**
 * Builds test frames byte by byte with its own naive checksum, independent of the production flyweights and
 * {@code Checksum} class, so tests built on it cross-check rather than restate the code.
 */
public final class Frames
{
    public static final int ETH_IPV4 = 0x0800;
    public static final int ETH_ARP = 0x0806;

    private Frames()
    {
    }

    public static int ip(final String dotted)
    {
        final String[] p = dotted.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8 |
            Integer.parseInt(p[3]);
    }

    public static long mac(final String text)
    {
        return Long.parseLong(text.replace(":", ""), 16);
    }

    /** RFC 1071 the slow, obvious way. */
    public static int naiveChecksum(final byte[] data, final int offset, final int length, final long initial)
    {
        long sum = initial;
        for (int i = 0; i < length; i += 2)
        {
            final int hi = data[offset + i] & 0xFF;
            final int lo = i + 1 < length ? data[offset + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    public static void putMac(final ByteBuffer b, final long mac)
    {
        for (int i = 5; i >= 0; i--)
        {
            b.put((byte)(mac >>> (i * 8)));
        }
    }

    public static byte[] ethernet(final long dst, final long src, final int type, final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + payload.length);
        putMac(b, dst);
        putMac(b, src);
        b.putShort((short)type);
        b.put(payload);
        return b.array();
    }

    public static byte[] ethernetVlan(final long dst, final long src, final int vid, final int type,
        final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(18 + payload.length);
        putMac(b, dst);
        putMac(b, src);
        b.putShort((short)0x8100);
        b.putShort((short)vid);
        b.putShort((short)type);
        b.put(payload);
        return b.array();
    }

    /** An IPv4 packet with a correct header checksum; {@code flagsFragment} is the raw 16-bit word. */
    public static byte[] ipv4(final int src, final int dst, final int protocol, final int ttl, final int flagsFragment,
        final byte[] l4)
    {
        final ByteBuffer b = ByteBuffer.allocate(20 + l4.length);
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + l4.length)).putShort((short)0x1234)
            .putShort((short)flagsFragment).put((byte)ttl).put((byte)protocol).putShort((short)0)
            .putInt(src).putInt(dst).put(l4);
        final byte[] a = b.array();
        final int csum = naiveChecksum(a, 0, 20, 0);
        a[10] = (byte)(csum >>> 8);
        a[11] = (byte)csum;
        return a;
    }

    public static long pseudo(final int src, final int dst, final int protocol, final int length)
    {
        return (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + protocol + length;
    }

    public static byte[] udp(final int src, final int dst, final int sport, final int dport, final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
        b.putShort((short)sport).putShort((short)dport).putShort((short)(8 + payload.length)).putShort((short)0)
            .put(payload);
        final byte[] a = b.array();
        int csum = naiveChecksum(a, 0, a.length, pseudo(src, dst, 17, a.length));
        if (csum == 0)
        {
            csum = 0xFFFF;
        }
        a[6] = (byte)(csum >>> 8);
        a[7] = (byte)csum;
        return a;
    }

    public static byte[] tcp(final int src, final int dst, final int sport, final int dport, final int flags,
        final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putShort((short)sport).putShort((short)dport).putInt(1000).putInt(0)
            .put((byte)0x50).put((byte)flags).putShort((short)65535).putShort((short)0).putShort((short)0)
            .put(payload);
        final byte[] a = b.array();
        final int csum = naiveChecksum(a, 0, a.length, pseudo(src, dst, 6, a.length));
        a[16] = (byte)(csum >>> 8);
        a[17] = (byte)csum;
        return a;
    }

    public static byte[] icmpEcho(final int type, final int id, final int seq, final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
        b.put((byte)type).put((byte)0).putShort((short)0).putShort((short)id).putShort((short)seq).put(payload);
        final byte[] a = b.array();
        final int csum = naiveChecksum(a, 0, a.length, 0);
        a[2] = (byte)(csum >>> 8);
        a[3] = (byte)csum;
        return a;
    }

    public static byte[] arp(final int op, final long senderMac, final int senderIp, final long targetMac,
        final int targetIp)
    {
        final ByteBuffer b = ByteBuffer.allocate(28);
        b.putShort((short)1).putShort((short)0x0800).put((byte)6).put((byte)4).putShort((short)op);
        putMac(b, senderMac);
        b.putInt(senderIp);
        putMac(b, targetMac);
        b.putInt(targetIp);
        return b.array();
    }

    /**
     * A VXLAN packet (UDP checksum 0) from {@code source} to {@code destination}, port 4789, with the given flags
     * byte and VNI around the Ethernet frame {@code inner}.
     */
    public static byte[] vxlanFrame(final long destinationMac, final long sourceMac, final int source,
        final int destination, final int flagsByte, final int vni, final byte[] inner)
    {
        final ByteBuffer vxlan = ByteBuffer.allocate(8 + inner.length);
        vxlan.put((byte)flagsByte).put(new byte[3]).putInt(vni << 8).put(inner);
        final byte[] udp = udp(source, destination, 50001, 4789, vxlan.array());
        udp[6] = 0;
        udp[7] = 0;
        return ethernet(destinationMac, sourceMac, ETH_IPV4, ipv4(source, destination, 17, 64, 0x4000, udp));
    }

    public static byte[] payload(final int length, final int seed)
    {
        final byte[] p = new byte[length];
        for (int i = 0; i < length; i++)
        {
            p[i] = (byte)(seed + i * 31);
        }
        return p;
    }

    /** Ethernet + IPv4 + UDP in one call. */
    public static byte[] udpFrame(final long dstMac, final long srcMac, final int src, final int dst, final int ttl,
        final int sport, final int dport, final int payloadLength)
    {
        return ethernet(dstMac, srcMac, ETH_IPV4,
            ipv4(src, dst, 17, ttl, 0x4000, udp(src, dst, sport, dport, payload(payloadLength, sport))));
    }

    public static byte[] tcpFrame(final long dstMac, final long srcMac, final int src, final int dst, final int ttl,
        final int sport, final int dport, final int payloadLength)
    {
        return ethernet(dstMac, srcMac, ETH_IPV4,
            ipv4(src, dst, 6, ttl, 0x4000, tcp(src, dst, sport, dport, 0x18, payload(payloadLength, dport))));
    }

    public static byte[] pingFrame(final long dstMac, final long srcMac, final int src, final int dst, final int ttl,
        final int id, final int seq)
    {
        return ethernet(dstMac, srcMac, ETH_IPV4,
            ipv4(src, dst, 1, ttl, 0, icmpEcho(8, id, seq, payload(56, seq))));
    }

    /** Re-fix the IPv4 header checksum after a test mutated the header at {@code l3}. */
    public static byte[] fixIpChecksum(final byte[] frame, final int l3)
    {
        final int ihl = (frame[l3] & 0x0F) * 4;
        frame[l3 + 10] = 0;
        frame[l3 + 11] = 0;
        final int csum = naiveChecksum(frame, l3, Math.min(ihl, frame.length - l3), 0);
        frame[l3 + 10] = (byte)(csum >>> 8);
        frame[l3 + 11] = (byte)csum;
        return frame;
    }
}
