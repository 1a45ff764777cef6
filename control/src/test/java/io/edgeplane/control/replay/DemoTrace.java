package io.edgeplane.control.replay;

import io.edgeplane.testing.Frames;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.edgeplane.testing.Frames.ip;

/**
 * Writes the bundled demo trace ({@code pcaps/demo/trace.pcap}): a client on Port1 talking to the box and through
 * it, with one example of each decision the dataplane makes. {@link ReplayGoldenTest} checks that the committed
 * file equals what this class generates (and rewrites it with {@code -Dedgeplane.regenerate=true}).
 */
public final class DemoTrace
{
    public static final long PORT1_MAC = Frames.mac("02:00:00:00:01:01");
    public static final long CLIENT_MAC = Frames.mac("02:00:00:00:01:10");
    public static final int CLIENT = ip("10.1.0.10");
    public static final long START_NANOS = 1_700_000_000_000_000_000L;

    private DemoTrace()
    {
    }

    /** The frames, in order, with a short description of each (the description is for the README table). */
    public static List<byte[]> frames()
    {
        final List<byte[]> frames = new ArrayList<>();
        final int gateway = ip("10.1.0.1");
        // 1: ARP request for the gateway's address: answered in place.
        frames.add(Frames.ethernet(-1L & 0xFFFF_FFFF_FFFFL, CLIENT_MAC, Frames.ETH_ARP,
            Frames.arp(1, CLIENT_MAC, CLIENT, 0, gateway)));
        // 2: ping to the gateway.
        frames.add(Frames.pingFrame(PORT1_MAC, CLIENT_MAC, CLIENT, gateway, 64, 0x77, 1));
        // 3, 4: connected destinations on Port2 and Port3.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.2.0.20"), 64, 40000, 7000, 40));
        frames.add(Frames.tcpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.3.0.30"), 64, 40001, 80, 200));
        // 5: two routes to 192.168.20.0/24, metric 100 via Port2 wins over 200 via Port3.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("192.168.20.5"), 64, 40002, 5000, 100));
        // 6-13: 172.20.0.0/16 is an ECMP pair (Port2, Port3): flows spread by hash.
        for (int i = 0; i < 8; i++)
        {
            frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("172.20." + i + ".7"), 64, 41000 + i, 6000,
                64));
        }
        // 14: a more specific /24 inside the ECMP /16.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("172.20.9.9"), 64, 42000, 6000, 64));
        // 15: TTL 1: time exceeded.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.2.0.20"), 1, 33434, 33434, 32));
        // 16: no route: net unreachable.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("8.8.8.8"), 64, 40003, 7000, 40));
        // 17: 1500-byte DF packet towards Port3 (MTU 1400): fragmentation needed.
        frames.add(Frames.tcpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.3.0.30"), 64, 40004, 80, 1460));
        // 18: bad IPv4 header checksum.
        final byte[] bad = Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.2.0.20"), 64, 40005, 7000, 40);
        bad[14 + 10] ^= 0x01;
        frames.add(bad);
        // 19: truncated in the IPv4 header.
        frames.add(Arrays.copyOf(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.2.0.20"), 64, 40006, 7000, 40),
            30));
        // 20: a neighbor nobody configured: ARP request out of Port2.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, ip("10.2.0.99"), 64, 40007, 7000, 40));
        // 21: a martian source.
        frames.add(Frames.udpFrame(PORT1_MAC, CLIENT_MAC, ip("127.0.0.1"), ip("10.2.0.20"), 64, 40008, 7000, 40));
        // 22: TCP to a gateway address (not served).
        frames.add(Frames.tcpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, gateway, 64, 40009, 22, 0));
        return frames;
    }

    public static void write(final Path path) throws TraceFileException
    {
        try (PcapWriter writer = new PcapWriter(path))
        {
            long nanos = START_NANOS;
            for (final byte[] frame : frames())
            {
                writer.write(frame, nanos);
                nanos += 1_000_000L;
            }
        }
    }

    public static void main(final String[] args) throws TraceFileException
    {
        write(Path.of(args.length > 0 ? args[0] : "pcaps/demo/trace.pcap"));
    }
}
