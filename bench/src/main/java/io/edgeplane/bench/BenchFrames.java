package io.edgeplane.bench;

import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.TcpFlyweight;
import io.edgeplane.proto.UdpFlyweight;
import org.agrona.concurrent.UnsafeBuffer;

/** Realistic frames for the benchmarks, written with the project's own flyweights. */
final class BenchFrames
{
    static final long PORT1_MAC = 0x0200_0000_0101L;
    static final long CLIENT_MAC = 0x0200_0000_0110L;

    private BenchFrames()
    {
    }

    /** A UDP frame of {@code frameLength} bytes (64 = minimum Ethernet frame without FCS: 60 + 4 counted). */
    static byte[] udp(final int source, final int destination, final int sourcePort, final int frameLength)
    {
        final int length = Math.max(frameLength, 14 + 20 + 8);
        final byte[] frame = new byte[length];
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);
        new EthernetFlyweight().wrap(buffer, 0).destination(PORT1_MAC).source(CLIENT_MAC)
            .etherType(EthernetFlyweight.TYPE_IPV4);
        final int ipLength = length - 14;
        new Ipv4Flyweight().wrap(buffer, 14).versionAndIhl(4, 5).totalLength(ipLength).identification(1)
            .flagsAndFragmentOffset(Ipv4Flyweight.FLAG_DF).ttl(64).protocol(Ipv4Flyweight.PROTOCOL_UDP)
            .source(source).destination(destination).updateHeaderChecksum();
        new UdpFlyweight().wrap(buffer, 34).sourcePort(sourcePort).destinationPort(4000).length(ipLength - 20)
            .updateChecksum(source, destination);
        return frame;
    }

    static byte[] tcp(final int source, final int destination, final int sourcePort, final int frameLength)
    {
        final byte[] frame = new byte[frameLength];
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);
        new EthernetFlyweight().wrap(buffer, 0).destination(PORT1_MAC).source(CLIENT_MAC)
            .etherType(EthernetFlyweight.TYPE_IPV4);
        final int ipLength = frameLength - 14;
        new Ipv4Flyweight().wrap(buffer, 14).versionAndIhl(4, 5).totalLength(ipLength).identification(1)
            .flagsAndFragmentOffset(Ipv4Flyweight.FLAG_DF).ttl(64).protocol(Ipv4Flyweight.PROTOCOL_TCP)
            .source(source).destination(destination).updateHeaderChecksum();
        buffer.putShort(34, (short)sourcePort, java.nio.ByteOrder.BIG_ENDIAN);
        buffer.putShort(36, (short)443, java.nio.ByteOrder.BIG_ENDIAN);
        buffer.putByte(34 + 12, (byte)0x50);
        buffer.putByte(34 + 13, (byte)0x10);
        new TcpFlyweight().wrap(buffer, 34).updateChecksum(source, destination, ipLength - 20);
        return frame;
    }
}
