package io.edgeplane.proto;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IcmpV4EchoPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.IpV4Rfc791Tos;
import org.pcap4j.packet.Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;
import org.pcap4j.packet.UnknownPacket;
import org.pcap4j.packet.namednumber.ArpHardwareType;
import org.pcap4j.packet.namednumber.ArpOperation;
import org.pcap4j.packet.namednumber.EtherType;
import org.pcap4j.packet.namednumber.IcmpV4Code;
import org.pcap4j.packet.namednumber.IcmpV4Type;
import org.pcap4j.packet.namednumber.IpNumber;
import org.pcap4j.packet.namednumber.IpVersion;
import org.pcap4j.packet.namednumber.TcpPort;
import org.pcap4j.packet.namednumber.UdpPort;
import org.pcap4j.util.MacAddress;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our flyweights and checksums against pcap4j's packet classes (an independent encoder/decoder) on randomly
 * generated packets: fields read back equal, checksums computed equal, and in-place rewrites (TTL decrement,
 * address rewrite with RFC 1624 updates) leave packets that pcap4j judges valid.
 */
class FlyweightCrossCheckTest
{
    private static final int PACKETS = 2000;
    private final Random random = new Random(42);
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final UdpFlyweight udp = new UdpFlyweight();
    private final TcpFlyweight tcp = new TcpFlyweight();
    private final IcmpFlyweight icmp = new IcmpFlyweight();
    private final ArpFlyweight arp = new ArpFlyweight();

    private static Inet4Address inet(final int address)
    {
        try
        {
            return (Inet4Address)InetAddress.getByAddress(new byte[] {
                (byte)(address >>> 24), (byte)(address >>> 16), (byte)(address >>> 8), (byte)address});
        }
        catch (final UnknownHostException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static int toInt(final Inet4Address address)
    {
        final byte[] b = address.getAddress();
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    private static long toLong(final MacAddress mac)
    {
        long value = 0;
        for (final byte b : mac.getAddress())
        {
            value = value << 8 | (b & 0xFF);
        }
        return value;
    }

    private byte[] randomBytes(final int max)
    {
        final byte[] bytes = new byte[random.nextInt(max + 1)];
        random.nextBytes(bytes);
        return bytes;
    }

    private int unicastAddress()
    {
        return (1 + random.nextInt(222)) << 24 | random.nextInt(1 << 24);
    }

    private EthernetPacket build(final int protocolChoice, final int src, final int dst, final int ttl)
    {
        final Packet.Builder l4;
        final IpNumber number;
        final UnknownPacket.Builder payload = new UnknownPacket.Builder().rawData(randomBytes(1200));
        if (protocolChoice == 0)
        {
            number = IpNumber.UDP;
            l4 = new UdpPacket.Builder()
                .srcPort(UdpPort.getInstance((short)random.nextInt(65536)))
                .dstPort(UdpPort.getInstance((short)random.nextInt(65536)))
                .srcAddr(inet(src)).dstAddr(inet(dst)).payloadBuilder(payload)
                .correctChecksumAtBuild(true).correctLengthAtBuild(true);
        }
        else if (protocolChoice == 1)
        {
            number = IpNumber.TCP;
            l4 = new TcpPacket.Builder()
                .srcPort(TcpPort.getInstance((short)random.nextInt(65536)))
                .dstPort(TcpPort.getInstance((short)random.nextInt(65536)))
                .sequenceNumber(random.nextInt()).acknowledgmentNumber(random.nextInt())
                .dataOffset((byte)5).window((short)random.nextInt(65536)).ack(true).psh(random.nextBoolean())
                .syn(random.nextBoolean()).srcAddr(inet(src)).dstAddr(inet(dst)).payloadBuilder(payload)
                .correctChecksumAtBuild(true).correctLengthAtBuild(true);
        }
        else
        {
            number = IpNumber.ICMPV4;
            l4 = new IcmpV4CommonPacket.Builder().type(IcmpV4Type.ECHO).code(IcmpV4Code.NO_CODE)
                .payloadBuilder(new IcmpV4EchoPacket.Builder()
                    .identifier((short)random.nextInt(65536)).sequenceNumber((short)random.nextInt(65536))
                    .payloadBuilder(payload))
                .correctChecksumAtBuild(true);
        }
        final IpV4Packet.Builder ipBuilder = new IpV4Packet.Builder()
            .version(IpVersion.IPV4).tos(IpV4Rfc791Tos.newInstance((byte)0)).ttl((byte)ttl).protocol(number)
            .identification((short)random.nextInt(65536)).dontFragmentFlag(random.nextBoolean())
            .srcAddr(inet(src)).dstAddr(inet(dst)).payloadBuilder(l4)
            .correctChecksumAtBuild(true).correctLengthAtBuild(true);
        return new EthernetPacket.Builder()
            .dstAddr(MacAddress.getByName(String.format("02:00:00:%02x:%02x:%02x", random.nextInt(256),
                random.nextInt(256), random.nextInt(256))))
            .srcAddr(MacAddress.getByName("02:11:22:33:44:55"))
            .type(EtherType.IPV4).payloadBuilder(ipBuilder).paddingAtBuild(true).build();
    }

    @Test
    void shouldReadWhatPcap4jWroteAndComputeTheSameChecksums()
    {
        for (int i = 0; i < PACKETS; i++)
        {
            final int choice = i % 3;
            final EthernetPacket packet = build(choice, unicastAddress(), unicastAddress(), 2 + random.nextInt(250));
            final byte[] raw = packet.getRawData();
            final UnsafeBuffer buffer = new UnsafeBuffer(raw);
            ethernet.wrap(buffer, 0);
            assertEquals(toLong(packet.getHeader().getDstAddr()), ethernet.destination());
            assertEquals(toLong(packet.getHeader().getSrcAddr()), ethernet.source());
            assertEquals(0x0800, ethernet.etherType());

            final IpV4Packet ipPacket = packet.get(IpV4Packet.class);
            final IpV4Packet.IpV4Header ipHeader = ipPacket.getHeader();
            ip.wrap(buffer, 14);
            assertEquals(4, ip.version());
            assertEquals(ipHeader.getIhlAsInt() * 4, ip.headerLength());
            assertEquals(ipHeader.getTotalLengthAsInt(), ip.totalLength());
            assertEquals(ipHeader.getIdentificationAsInt(), ip.identification());
            assertEquals(ipHeader.getDontFragmentFlag(), ip.dontFragment());
            assertEquals(ipHeader.getTtlAsInt(), ip.ttl());
            assertEquals(ipHeader.getProtocol().value() & 0xFF, ip.protocol());
            assertEquals(ipHeader.getHeaderChecksum() & 0xFFFF, ip.checksum());
            assertEquals(toInt(ipHeader.getSrcAddr()), ip.source());
            assertEquals(toInt(ipHeader.getDstAddr()), ip.destination());
            assertTrue(ip.headerChecksumValid());
            final int written = ip.checksum();
            ip.updateHeaderChecksum();
            assertEquals(written, ip.checksum(), "full IPv4 header checksum");

            final int l4 = 14 + ip.headerLength();
            if (choice == 0)
            {
                final UdpPacket.UdpHeader header = packet.get(UdpPacket.class).getHeader();
                udp.wrap(buffer, l4);
                assertEquals(header.getSrcPort().valueAsInt(), udp.sourcePort());
                assertEquals(header.getDstPort().valueAsInt(), udp.destinationPort());
                assertEquals(header.getLengthAsInt(), udp.length());
                udp.updateChecksum(ip.source(), ip.destination());
                assertEquals(header.getChecksum() & 0xFFFF, udp.checksum(), "UDP checksum");
            }
            else if (choice == 1)
            {
                final TcpPacket.TcpHeader header = packet.get(TcpPacket.class).getHeader();
                tcp.wrap(buffer, l4);
                assertEquals(header.getSrcPort().valueAsInt(), tcp.sourcePort());
                assertEquals(header.getDstPort().valueAsInt(), tcp.destinationPort());
                assertEquals(header.getSequenceNumberAsLong(), tcp.sequence());
                assertEquals(header.getAcknowledgmentNumberAsLong(), tcp.acknowledgment());
                assertEquals(header.getDataOffsetAsInt(), tcp.dataOffset());
                assertEquals(header.getWindowAsInt(), tcp.window());
                assertEquals(header.getSyn(), (tcp.flags() & TcpFlyweight.FLAG_SYN) != 0);
                tcp.updateChecksum(ip.source(), ip.destination(), ip.totalLength() - ip.headerLength());
                assertEquals(header.getChecksum() & 0xFFFF, tcp.checksum(), "TCP checksum");
            }
            else
            {
                final IcmpV4CommonPacket.IcmpV4CommonHeader header =
                    packet.get(IcmpV4CommonPacket.class).getHeader();
                final IcmpV4EchoPacket.IcmpV4EchoHeader echo = packet.get(IcmpV4EchoPacket.class).getHeader();
                icmp.wrap(buffer, l4);
                assertEquals(header.getType().value() & 0xFF, icmp.type());
                assertEquals(echo.getIdentifierAsInt(), icmp.identifier());
                assertEquals(echo.getSequenceNumberAsInt(), icmp.sequence());
                final int length = ip.totalLength() - ip.headerLength();
                assertTrue(icmp.checksumValid(length));
                icmp.updateChecksum(length);
                assertEquals(header.getChecksum() & 0xFFFF, icmp.checksum(), "ICMP checksum");
            }
        }
    }

    @Test
    void shouldLeaveValidChecksumsAfterIncrementalRewrites()
    {
        for (int i = 0; i < PACKETS; i++)
        {
            final int choice = i % 3;
            final EthernetPacket packet = build(choice, unicastAddress(), unicastAddress(), 2 + random.nextInt(250));
            final byte[] raw = packet.getRawData();
            final UnsafeBuffer buffer = new UnsafeBuffer(raw);
            ip.wrap(buffer, 14);
            final int ttl = ip.ttl();
            ip.decrementTtl();
            final int oldSource = ip.source();
            final int newSource = unicastAddress();
            ip.source(newSource).checksum(Checksum.adjust32(ip.checksum(), oldSource, newSource));
            final int l4 = 14 + ip.headerLength();
            if (choice == 0)
            {
                udp.wrap(buffer, l4);
                final int oldPort = udp.sourcePort();
                final int newPort = random.nextInt(65536);
                int checksum = Checksum.adjustUdp32(udp.checksum(), oldSource, newSource);
                checksum = Checksum.adjustUdp16(checksum, oldPort, newPort);
                udp.sourcePort(newPort).checksum(checksum);
            }
            else if (choice == 1)
            {
                tcp.wrap(buffer, l4);
                tcp.checksum(Checksum.adjust32(tcp.checksum(), oldSource, newSource));
            }

            final EthernetPacket decoded;
            try
            {
                decoded = EthernetPacket.newPacket(raw, 0, raw.length);
            }
            catch (final Exception ex)
            {
                throw new AssertionError(ex);
            }
            final IpV4Packet.IpV4Header header = decoded.get(IpV4Packet.class).getHeader();
            assertEquals(ttl - 1, header.getTtlAsInt());
            assertEquals(newSource, toInt(header.getSrcAddr()));
            assertTrue(header.hasValidChecksum(false), "IPv4 checksum after TTL and address rewrite");
            if (choice == 0)
            {
                assertTrue(decoded.get(UdpPacket.class).hasValidChecksum(header.getSrcAddr(), header.getDstAddr(),
                    false), "UDP checksum after address and port rewrite");
            }
            else if (choice == 1)
            {
                assertTrue(decoded.get(TcpPacket.class).hasValidChecksum(header.getSrcAddr(), header.getDstAddr(),
                    false), "TCP checksum after address rewrite");
            }
        }
    }

    @Test
    void shouldReadAndWriteArpLikePcap4j()
    {
        for (int i = 0; i < 200; i++)
        {
            final int sender = unicastAddress();
            final int target = unicastAddress();
            final ArpPacket packet = new ArpPacket.Builder().hardwareType(ArpHardwareType.ETHERNET)
                .protocolType(EtherType.IPV4).hardwareAddrLength((byte)6).protocolAddrLength((byte)4)
                .operation(i % 2 == 0 ? ArpOperation.REQUEST : ArpOperation.REPLY)
                .srcHardwareAddr(MacAddress.getByName("02:aa:bb:cc:dd:" + String.format("%02x", i)))
                .srcProtocolAddr(inet(sender)).dstHardwareAddr(MacAddress.getByName("00:00:00:00:00:00"))
                .dstProtocolAddr(inet(target)).build();
            final byte[] raw = packet.getRawData();
            arp.wrap(new UnsafeBuffer(raw), 0);
            assertEquals(ArpFlyweight.HTYPE_ETHERNET, arp.hardwareType());
            assertEquals(0x0800, arp.protocolType());
            assertEquals(packet.getHeader().getOperation().value() & 0xFFFF, arp.operation());
            assertEquals(toLong(packet.getHeader().getSrcHardwareAddr()), arp.senderMac());
            assertEquals(sender, arp.senderIp());
            assertEquals(target, arp.targetIp());

            arp.operation(ArpFlyweight.OP_REPLY).targetMac(arp.senderMac()).targetIp(sender)
                .senderMac(0x02_00_00_00_00_01L).senderIp(target);
            final ArpPacket decoded;
            try
            {
                decoded = ArpPacket.newPacket(raw, 0, raw.length);
            }
            catch (final Exception ex)
            {
                throw new AssertionError(ex);
            }
            assertEquals(ArpOperation.REPLY, decoded.getHeader().getOperation());
            assertEquals(MacAddress.getByName("02:00:00:00:00:01"), decoded.getHeader().getSrcHardwareAddr());
            assertEquals(inet(target), decoded.getHeader().getSrcProtocolAddr());
            assertEquals(inet(sender), decoded.getHeader().getDstProtocolAddr());
        }
    }
}
