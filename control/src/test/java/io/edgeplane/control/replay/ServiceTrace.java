package io.edgeplane.control.replay;

import io.edgeplane.testing.Frames;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.edgeplane.testing.Frames.ip;

/**
 * Writes {@code pcaps/services/clients.pcap} (Port1, outside) and {@code pcaps/services/pods.pcap} (Port4, the
 * pods), replayed together: six connections to the LoadBalancer VIP spread over three backends, one to the
 * allocated node port, a client reaching for a ClusterIP from outside, a connection to a service without backends,
 * ARP and ping for the VIP, and a pod asking the DNS ClusterIP whose only backend shares its switch (masqueraded),
 * with the backend's answer.
 */
public final class ServiceTrace
{
    static final long PORT1_MAC = Frames.mac("02:00:00:00:01:01");
    static final long PORT4_MAC = Frames.mac("02:00:00:00:04:01");
    static final long CLIENT_MAC = Frames.mac("02:00:00:00:01:10");
    static final int CLIENT = ip("10.1.0.10");
    static final int VIP = ip("10.1.0.100");
    static final long MS = 1_000_000L;

    private ServiceTrace()
    {
    }

    private static byte[] fromClient(final int destination, final int protocol, final byte[] l4)
    {
        return Frames.ethernet(PORT1_MAC, CLIENT_MAC, Frames.ETH_IPV4, Frames.ipv4(CLIENT, destination, protocol, 64,
            0x4000, l4));
    }

    private static byte[] fromPod(final int last, final int destination, final byte[] l4)
    {
        final int source = ip("10.4.0." + last);
        return Frames.ethernet(PORT4_MAC, Frames.mac("02:00:00:00:04:0" + last), Frames.ETH_IPV4,
            Frames.ipv4(source, destination, 17, 64, 0, l4));
    }

    static List<NatTrace.Captured> frames()
    {
        final List<NatTrace.Captured> frames = new ArrayList<>();
        long t = MS;
        frames.add(new NatTrace.Captured(false, t++, Frames.ethernet(-1L & 0xFFFF_FFFF_FFFFL, CLIENT_MAC,
            Frames.ETH_ARP, Frames.arp(1, CLIENT_MAC, CLIENT, 0, VIP))));
        frames.add(new NatTrace.Captured(false, t++, Frames.pingFrame(PORT1_MAC, CLIENT_MAC, CLIENT, VIP, 64, 5, 1)));
        for (int port = 40000; port < 40006; port++)
        {
            frames.add(new NatTrace.Captured(false, t++, fromClient(VIP, 6,
                Frames.tcp(CLIENT, VIP, port, 80, 0x02, new byte[0]))));
        }
        frames.add(new NatTrace.Captured(false, t++, fromClient(ip("10.1.0.1"), 6,
            Frames.tcp(CLIENT, ip("10.1.0.1"), 40010, 30000, 0x02, new byte[0]))));
        frames.add(new NatTrace.Captured(false, t++, fromClient(ip("10.96.0.10"), 6,
            Frames.tcp(CLIENT, ip("10.96.0.10"), 40011, 80, 0x02, new byte[0]))));
        frames.add(new NatTrace.Captured(false, t++, fromClient(ip("10.1.0.101"), 6,
            Frames.tcp(CLIENT, ip("10.1.0.101"), 40012, 443, 0x02, new byte[0]))));
        frames.add(new NatTrace.Captured(true, t++, fromPod(2, ip("10.96.0.53"),
            Frames.udp(ip("10.4.0.2"), ip("10.96.0.53"), 5353, 53, Frames.payload(20, 1)))));
        frames.add(new NatTrace.Captured(true, t++, fromPod(3, ip("10.4.0.1"),
            Frames.udp(ip("10.4.0.3"), ip("10.4.0.1"), 53, 5353, Frames.payload(40, 2)))));
        return frames;
    }

    /** Write {@code clients.pcap} and {@code pods.pcap} into {@code directory}. */
    public static void write(final Path directory) throws TraceFileException
    {
        try (PcapWriter pods = new PcapWriter(directory.resolve("pods.pcap"));
            PcapWriter clients = new PcapWriter(directory.resolve("clients.pcap")))
        {
            for (final NatTrace.Captured captured : frames())
            {
                (captured.inside() ? pods : clients).write(captured.frame(), NatTrace.START_NANOS + captured.nanos());
            }
        }
    }
}
