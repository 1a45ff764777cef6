package io.edgeplane.stage;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.ServiceConfig;
import io.edgeplane.counters.DropReason;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.TcpPacket;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kubernetes services through the pipeline: LoadBalancer VIP, ClusterIP and NodePort DNAT to pod backends chosen by
 * Maglev, replies translated back, the ClusterIP source check, refusal without backends, kube-proxy's masquerade
 * when client and backend share a switch, and flows whose backend goes. Checksums recomputed from scratch.
 */
class ServiceTest
{
    static final String CONFIG = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
            { "name": "Port4", "mac": "02:00:00:00:04:01", "ipv4": "10.4.0.1/24" }
          ],
          "neighbors": [
            { "interface": "Port1", "ip": "10.1.0.10", "mac": "02:00:00:00:01:10" },
            { "interface": "Port4", "ip": "10.4.0.2", "mac": "02:00:00:00:04:02" },
            { "interface": "Port4", "ip": "10.4.0.3", "mac": "02:00:00:00:04:03" },
            { "interface": "Port4", "ip": "10.4.0.4", "mac": "02:00:00:00:04:04" }
          ],
          "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.120", "serviceCIDR": "10.96.0.0/12",
                              "clusterSources": ["10.4.0.0/24"] },
          "services": [
            { "name": "web", "type": "LoadBalancer", "clusterIP": "10.96.0.10", "loadBalancerIP": "10.1.0.100",
              "ports": [ { "name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080 } ],
              "backends": [ { "ip": "10.4.0.2" }, { "ip": "10.4.0.3" }, { "ip": "10.4.0.4" } ] },
            { "name": "dns", "clusterIP": "10.96.0.53", "ports": [ { "protocol": "UDP", "port": 53 } ],
              "backends": [ { "ip": "10.4.0.3" }, { "ip": "10.4.0.4" } ] },
            { "name": "empty", "type": "LoadBalancer", "ports": [ { "port": 443 } ] }
          ]
        }
        """;
    static final int PORT1 = 0;
    static final int PORT4 = 1;
    static final long PORT1_MAC = 0x0200_0000_0101L;
    static final long PORT4_MAC = 0x0200_0000_0401L;
    static final long CLIENT_MAC = 0x0200_0000_0110L;
    static final int CLIENT = ip("10.1.0.10");
    static final int VIP = ip("10.1.0.100");

    static byte[] tcpToVip(final int sourcePort, final int destination, final int port, final int flags)
    {
        return NatTest.tcpFrame(PORT1_MAC, CLIENT_MAC, CLIENT, sourcePort, destination, port, flags);
    }

    static IpV4Packet sent(final Harness harness, final long id, final int port) throws Exception
    {
        final Harness.Sent sent = harness.sentFor(id);
        assertNotNull(sent, "packet " + id + " was not sent; dropped as " + harness.dropFor(id));
        assertEquals(port, sent.port(), "egress port");
        NatTest.assertChecksums(sent.frame(), 14);
        return EthernetPacket.newPacket(sent.frame(), 0, sent.frame().length).get(IpV4Packet.class);
    }

    static int address(final java.net.Inet4Address a)
    {
        return ByteBuffer.wrap(a.getAddress()).getInt();
    }

    static int destinationPort(final IpV4Packet packet)
    {
        return ByteBuffer.wrap(packet.getPayload().getRawData()).getShort(2) & 0xFFFF;
    }

    static int sourcePort(final IpV4Packet packet)
    {
        return ByteBuffer.wrap(packet.getPayload().getRawData()).getShort(0) & 0xFFFF;
    }

    @Test
    void aLoadBalancerVipIsTranslatedToABackendAndTheReplyBack() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long syn = harness.receive(PORT1, tcpToVip(40000, VIP, 80, 0x02));
        harness.flush();
        final IpV4Packet toBackend = sent(harness, syn, PORT4);
        final int backend = address(toBackend.getHeader().getDstAddr());
        assertTrue(backend == ip("10.4.0.2") || backend == ip("10.4.0.3") || backend == ip("10.4.0.4"));
        assertEquals(8080, destinationPort(toBackend));
        assertEquals(CLIENT, address(toBackend.getHeader().getSrcAddr()), "the client's address is kept");
        assertEquals(40000, sourcePort(toBackend));
        final long synAck = harness.receive(PORT4, NatTest.tcpFrame(PORT4_MAC, 0x0200_0000_0400L | (backend & 0xFF),
            backend, 8080, CLIENT, 40000, 0x12));
        harness.flush();
        final IpV4Packet reply = sent(harness, synAck, PORT1);
        assertEquals(VIP, address(reply.getHeader().getSrcAddr()));
        assertEquals(80, sourcePort(reply));
        assertEquals(CLIENT, address(reply.getHeader().getDstAddr()));
    }

    @Test
    void newConnectionsAreSpreadOverEveryBackendAndAFlowKeepsItsChoiceOnEveryGateway() throws Exception
    {
        final Harness first = new Harness(CONFIG);
        final Harness second = new Harness(CONFIG);
        final Map<Integer, Integer> counts = new HashMap<>();
        for (int flow = 0; flow < 300; flow++)
        {
            final long a = first.receive(PORT1, tcpToVip(20000 + flow, VIP, 80, 0x02));
            final long b = second.receive(PORT1, tcpToVip(20000 + flow, VIP, 80, 0x02));
            first.flush();
            second.flush();
            final int backend = address(sent(first, a, PORT4).getHeader().getDstAddr());
            assertEquals(backend, address(sent(second, b, PORT4).getHeader().getDstAddr()),
                "two gateways with the same config pick the same backend (no shared state)");
            counts.merge(backend, 1, Integer::sum);
        }
        assertEquals(3, counts.size(), counts.toString());
        for (final int count : counts.values())
        {
            assertTrue(count >= 60 && count <= 140, "each backend near a third of 300: " + counts);
        }
    }

    @Test
    void aClusterIpServesClusterSourcesOnlyAndMasqueradesOnTheBackendsSwitch() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long outside = harness.receive(PORT1, tcpToVip(40000, ip("10.96.0.10"), 80, 0x02));
        harness.flush();
        assertEquals(DropReason.LB_CLUSTER_IP_SOURCE, harness.dropFor(outside));
        // A pod on Port4 asks the ClusterIP; every backend is on Port4 too: the source becomes 10.4.0.1.
        final long fromPod = harness.receive(PORT4, NatTest.tcpFrame(PORT4_MAC, 0x0200_0000_0402L, ip("10.4.0.2"),
            41000, ip("10.96.0.10"), 80, 0x02));
        harness.flush();
        final IpV4Packet toBackend = sent(harness, fromPod, PORT4);
        assertEquals(ip("10.4.0.1"), address(toBackend.getHeader().getSrcAddr()), "kube-proxy's masquerade");
        final int backend = address(toBackend.getHeader().getDstAddr());
        final long reply = harness.receive(PORT4, NatTest.tcpFrame(PORT4_MAC, 0x0200_0000_0400L | (backend & 0xFF),
            backend, 8080, ip("10.4.0.1"), sourcePort(toBackend), 0x12));
        harness.flush();
        final IpV4Packet atPod = sent(harness, reply, PORT4);
        assertEquals(ip("10.96.0.10"), address(atPod.getHeader().getSrcAddr()));
        assertEquals(80, sourcePort(atPod));
        assertEquals(ip("10.4.0.2"), address(atPod.getHeader().getDstAddr()));
        assertEquals(41000, destinationPort(atPod));
    }

    @Test
    void aNodePortAnswersOnTheBoxsAddresses() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final long id = harness.receive(PORT1, tcpToVip(40000, ip("10.1.0.1"), 30080, 0x02));
        harness.flush();
        assertEquals(8080, destinationPort(sent(harness, id, PORT4)));
    }

    @Test
    void aServiceWithoutReadyBackendsRefusesWithPortUnreachable() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final int emptyVip = ip("10.1.0.101");
        final long id = harness.receive(PORT1, tcpToVip(40000, emptyVip, 443, 0x02));
        harness.flush();
        assertEquals(DropReason.LB_NO_BACKEND, harness.dropFor(id));
        final byte[] error = harness.sent.get(harness.sent.size() - 1).frame();
        NatTest.assertChecksums(error, 14);
        assertEquals(3, error[14 + 20] & 0xFF, "destination unreachable");
        assertEquals(3, error[14 + 21] & 0xFF, "port unreachable");
        assertEquals(CLIENT, ByteBuffer.wrap(error).getInt(14 + 16));
        assertEquals(emptyVip, ByteBuffer.wrap(error).getInt(14 + 28 + 16), "the quoted packet is the client's");
    }

    private static byte[] dnsQuery(final int sourcePort)
    {
        return Frames.ethernet(PORT4_MAC, 0x0200_0000_0402L, Frames.ETH_IPV4, Frames.ipv4(ip("10.4.0.2"),
            ip("10.96.0.53"), 17, 64, 0, Frames.udp(ip("10.4.0.2"), ip("10.96.0.53"), sourcePort, 53, new byte[12])));
    }

    private static DataplaneConfig withDnsBackends(final DataplaneConfig config, final String... backends)
        throws ConfigException
    {
        final List<Integer> addresses = new ArrayList<>();
        for (final String b : backends)
        {
            addresses.add(ip(b));
        }
        return withBackends(config, "dns", addresses);
    }

    @Test
    void aOneWayUdpSenderNeverSticksToAGoneBackend() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        long id = harness.receive(PORT4, dnsQuery(5353));
        harness.flush();
        final int before = address(sent(harness, id, PORT4).getHeader().getDstAddr());
        final String other = before == ip("10.4.0.3") ? "10.4.0.4" : "10.4.0.3";
        // Its backend goes: the next datagram of the same flow reaches the other one.
        harness.dataplane.configureServices(config.serviceNetwork(), withDnsBackends(config, other).services());
        id = harness.receive(PORT4, dnsQuery(5353));
        harness.flush();
        assertEquals(ip(other), address(sent(harness, id, PORT4).getHeader().getDstAddr()));
        // Scaled to zero: refused; and back: served again at once.
        harness.dataplane.configureServices(config.serviceNetwork(), withDnsBackends(config).services());
        id = harness.receive(PORT4, dnsQuery(5353));
        harness.flush();
        assertEquals(DropReason.LB_NO_BACKEND, harness.dropFor(id));
        harness.dataplane.configureServices(config.serviceNetwork(), withDnsBackends(config, "10.4.0.4").services());
        id = harness.receive(PORT4, dnsQuery(5353));
        harness.flush();
        assertEquals(ip("10.4.0.4"), address(sent(harness, id, PORT4).getHeader().getDstAddr()));
    }

    /**
     * A TCP segment from {@code source}:{@code sourcePort}, as a Linux host sends it: the timestamps option, then
     * {@code payload} bytes of data.
     */
    static byte[] segment(final long sourceMac, final long destinationMac, final int source, final int sourcePort,
        final int destination, final int destinationPort, final int sequence, final int acknowledgment,
        final int flags, final int payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(32 + payload);
        b.putShort((short)sourcePort).putShort((short)destinationPort).putInt(sequence).putInt(acknowledgment)
            .put((byte)0x80).put((byte)flags).putShort((short)502).putShort((short)0).putShort((short)0)
            .put((byte)1).put((byte)1).put((byte)8).put((byte)10).putInt(77_000).putInt(66_000);
        for (int i = 0; i < payload; i++)
        {
            b.put((byte)i);
        }
        final byte[] tcp = b.array();
        final int sum = Frames.naiveChecksum(tcp, 0, tcp.length, Frames.pseudo(source, destination, 6, tcp.length));
        tcp[16] = (byte)(sum >>> 8);
        tcp[17] = (byte)sum;
        return Frames.ethernet(destinationMac, sourceMac, Frames.ETH_IPV4, Frames.ipv4(source, destination, 6, 64,
            0x4000, tcp));
    }

    /** The service's backends replaced by these (ready). */
    static DataplaneConfig withBackends(final DataplaneConfig config, final String name, final List<Integer> backends)
        throws ConfigException
    {
        final List<ServiceConfig.Backend> list = new ArrayList<>();
        backends.forEach(b -> list.add(new ServiceConfig.Backend(b, true, 1)));
        return withBackendRecords(config, name, list);
    }

    static DataplaneConfig withBackendRecords(final DataplaneConfig config, final String name,
        final List<ServiceConfig.Backend> list) throws ConfigException
    {
        final List<ServiceConfig> services = new ArrayList<>();
        for (final ServiceConfig service : config.services())
        {
            if (!service.name().equals(name))
            {
                services.add(service);
                continue;
            }
            services.add(new ServiceConfig(service.name(), service.type(), service.clusterIp(),
                service.loadBalancerIp(), service.ports(), service.sessionAffinity(), list));
        }
        return config.withServices(services);
    }

    /** A SYN from the client's {@code port} to the VIP; returns the backend it went to. */
    private static int openToVip(final Harness harness, final int port) throws Exception
    {
        final long syn = harness.receive(PORT1, tcpToVip(port, VIP, 80, 0x02));
        harness.flush();
        return address(sent(harness, syn, PORT4).getHeader().getDstAddr());
    }

    /** The web service without {@code backend} (the other two stay, ready). */
    private static void removeWebBackend(final Harness harness, final DataplaneConfig config, final int backend)
        throws ConfigException
    {
        final List<Integer> rest = new ArrayList<>(List.of(ip("10.4.0.2"), ip("10.4.0.3"), ip("10.4.0.4")));
        rest.remove(Integer.valueOf(backend));
        harness.dataplane.configureServices(config.serviceNetwork(), withBackends(config, "web", rest).services());
    }

    @Test
    void whenABackendLeavesItsNextSegmentResetsTheClientFromTheVip() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        for (int w = 0; w < harness.workers.count(); w++)
        {
            harness.workers.get(w).tracer().traceAddress(CLIENT, 100);
        }
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final int backend = openToVip(harness, 40000);
        final long backendMac = 0x0200_0000_0400L | backend & 0xFF;
        final long synAck = harness.receive(PORT4, NatTest.tcpFrame(PORT4_MAC, backendMac, backend, 8080, CLIENT,
            40000, 0x12));
        harness.flush();
        sent(harness, synAck, PORT1);
        removeWebBackend(harness, config, backend);
        final int sessions = harness.sessions();

        // The backend, not told it left, sends the next segment of its answer: the client gets a reset instead.
        final long data = harness.receive(PORT4, segment(backendMac, PORT4_MAC, backend, 8080, CLIENT, 40000,
            0x1234_5678, 0x9ABC_DEF0, 0x18, 100));
        harness.flush();
        final IpV4Packet reset = sent(harness, data, PORT1);
        final TcpPacket.TcpHeader tcp = reset.get(TcpPacket.class).getHeader();
        assertEquals(VIP, address(reset.getHeader().getSrcAddr()), "from the VIP, as the client knows the flow");
        assertEquals(CLIENT, address(reset.getHeader().getDstAddr()));
        assertEquals(80, tcp.getSrcPort().valueAsInt());
        assertEquals(40000, tcp.getDstPort().valueAsInt());
        assertTrue(tcp.getRst() && tcp.getAck() && !tcp.getPsh() && !tcp.getSyn() && !tcp.getFin(), tcp.toString());
        assertEquals(0x1234_5678, tcp.getSequenceNumber(), "at the sequence number the client expects next");
        assertEquals(0x9ABC_DEF0, tcp.getAcknowledgmentNumber());
        assertEquals(40, reset.getHeader().getTotalLengthAsInt(), "no options, no data");
        assertEquals(null, reset.get(TcpPacket.class).getPayload());
        assertEquals(sessions - 1, harness.sessions(), "the flow ended");
        assertEquals(1L, harness.snapshot().events.get("lb-backend-gone-resets"));
        final StringBuilder trace = new StringBuilder();
        for (int w = 0; w < harness.workers.count(); w++)
        {
            trace.append(harness.workers.get(w).formatTrace());
        }
        assertTrue(trace.toString().contains("lb-backend-gone " + Ipv4Address.format(backend) +
            ":8080 left its service: reset sent to 10.1.0.10:40000"), trace.toString());

        // Its next segment finds no session: never again from the VIP.
        final long later = harness.receive(PORT4, segment(backendMac, PORT4_MAC, backend, 8080, CLIENT, 40000,
            0x1234_5678 + 100, 0x9ABC_DEF0, 0x18, 100));
        harness.flush();
        final Harness.Sent next = harness.sentFor(later);
        assertTrue(next == null || ByteBuffer.wrap(next.frame()).getInt(14 + 12) != VIP);
    }

    @Test
    void aBackendThatIsNoLongerReadyFinishesItsFlowsAndTakesNoNewOnesThenItsFlowsEndWhenItGoes() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final int backend = openToVip(harness, 40000);
        final long backendMac = 0x0200_0000_0400L | backend & 0xFF;
        final List<ServiceConfig.Backend> draining = new ArrayList<>();
        for (final String b : List.of("10.4.0.2", "10.4.0.3", "10.4.0.4"))
        {
            draining.add(new ServiceConfig.Backend(ip(b), ip(b) != backend, 1));
        }
        // Terminating but still serving (Kubernetes: ready false, serving true): listed, not ready.
        harness.dataplane.configureServices(config.serviceNetwork(),
            withBackendRecords(config, "web", draining).services());
        final long more = harness.receive(PORT1, tcpToVip(40000, VIP, 80, 0x10));
        harness.flush();
        assertEquals(backend, address(sent(harness, more, PORT4).getHeader().getDstAddr()), "the flow stays");
        final long answer = harness.receive(PORT4, segment(backendMac, PORT4_MAC, backend, 8080, CLIENT, 40000,
            5000, 7000, 0x18, 100));
        harness.flush();
        final IpV4Packet translated = sent(harness, answer, PORT1);
        assertEquals(VIP, address(translated.getHeader().getSrcAddr()));
        assertEquals(0x18, translated.get(TcpPacket.class).getHeader().getRawData()[13] & 0xFF, "its answer passes");
        for (int port = 41000; port < 41060; port++)
        {
            final long id = harness.receive(PORT1, tcpToVip(port, VIP, 80, 0x02));
            harness.flush();
            assertNotEquals(backend, address(sent(harness, id, PORT4).getHeader().getDstAddr()), "no new flow");
        }
        // Then it goes: its flow ends at its next segment.
        removeWebBackend(harness, config, backend);
        final long last = harness.receive(PORT4, segment(backendMac, PORT4_MAC, backend, 8080, CLIENT, 40000,
            5100, 7000, 0x18, 100));
        harness.flush();
        assertTrue(sent(harness, last, PORT1).get(TcpPacket.class).getHeader().getRst(), "reset");
    }

    @Test
    void aWindowProbeFromAGoneBackendResetsTheClientAtTheSequenceNumberItExpects() throws Exception
    {
        // The client stopped reading: its zero window stalled the backend, which now only sends window probes
        // (empty, one below the client's next expected sequence number; Linux's keepalives look the same).
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final int backend = openToVip(harness, 40000);
        removeWebBackend(harness, config, backend);
        final long probe = harness.receive(PORT4, segment(0x0200_0000_0400L | backend & 0xFF, PORT4_MAC, backend,
            8080, CLIENT, 40000, 0x7FFF_FFFF, 77, 0x10, 0));
        harness.flush();
        final TcpPacket.TcpHeader reset = sent(harness, probe, PORT1).get(TcpPacket.class).getHeader();
        assertTrue(reset.getRst() && reset.getAck(), reset.toString());
        assertEquals(0x8000_0000, reset.getSequenceNumber(), "the probe's sequence number + 1");
        assertEquals(77, reset.getAcknowledgmentNumber());
    }

    @Test
    void whenEveryBackendIsGoneAConnectionsNextSegmentIsAnsweredWithAReset() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        openToVip(harness, 40000);
        harness.dataplane.configureServices(config.serviceNetwork(), withBackends(config, "web", List.of())
            .services());

        // The client's next segment (a request: ACK and 100 bytes): RFC 793's reset from the VIP, <SEQ=SEG.ACK>.
        final long request = harness.receive(PORT1, segment(CLIENT_MAC, PORT1_MAC, CLIENT, 40000, VIP, 80,
            0x0102_0304, 0x0A0B_0C0D, 0x18, 100));
        harness.flush();
        assertEquals(DropReason.LB_NO_BACKEND, harness.dropFor(request), "the segment itself is not forwarded");
        final IpV4Packet reset = sent(harness, request, PORT1);
        final TcpPacket.TcpHeader tcp = reset.get(TcpPacket.class).getHeader();
        assertEquals(VIP, address(reset.getHeader().getSrcAddr()));
        assertEquals(CLIENT, address(reset.getHeader().getDstAddr()));
        assertEquals(80, tcp.getSrcPort().valueAsInt());
        assertEquals(40000, tcp.getDstPort().valueAsInt());
        assertTrue(tcp.getRst() && !tcp.getAck() && !tcp.getSyn(), tcp.toString());
        assertEquals(0x0A0B_0C0D, tcp.getSequenceNumber());
        assertEquals(40, reset.getHeader().getTotalLengthAsInt());

        // Without ACK (a FIN alone): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the FIN counting one.
        final long fin = harness.receive(PORT1, segment(CLIENT_MAC, PORT1_MAC, CLIENT, 40000, VIP, 80, 500, 0, 0x01,
            10));
        harness.flush();
        final TcpPacket.TcpHeader finReset = sent(harness, fin, PORT1).get(TcpPacket.class).getHeader();
        assertTrue(finReset.getRst() && finReset.getAck(), finReset.toString());
        assertEquals(0, finReset.getSequenceNumber());
        assertEquals(511, finReset.getAcknowledgmentNumber());

        // A reset is never answered; a SYN still gets ICMP port unreachable (the existing refusal).
        final long rst = harness.receive(PORT1, segment(CLIENT_MAC, PORT1_MAC, CLIENT, 40000, VIP, 80, 600, 0, 0x04,
            0));
        final long syn = harness.receive(PORT1, tcpToVip(40002, VIP, 80, 0x02));
        harness.flush();
        assertEquals(null, harness.sentFor(rst));
        assertEquals(1, sent(harness, syn, PORT1).getHeader().getProtocol().value().intValue(), "ICMP");
    }

    @Test
    void aDatagramFromABackendThatLeftIsDroppedAndItsFlowEnds() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final long query = harness.receive(PORT4, dnsQuery(5300));
        harness.flush();
        final IpV4Packet toBackend = sent(harness, query, PORT4);
        final int backend = address(toBackend.getHeader().getDstAddr());
        final int other = backend == ip("10.4.0.3") ? ip("10.4.0.4") : ip("10.4.0.3");
        harness.dataplane.configureServices(config.serviceNetwork(), withBackends(config, "dns", List.of(other))
            .services());
        final int sessions = harness.sessions();
        final int client = address(toBackend.getHeader().getSrcAddr());
        final long answer = harness.receive(PORT4, Frames.ethernet(PORT4_MAC, 0x0200_0000_0400L | backend & 0xFF,
            Frames.ETH_IPV4, Frames.ipv4(backend, client, 17, 64, 0, Frames.udp(backend, client, 53,
                sourcePort(toBackend), new byte[40]))));
        harness.flush();
        assertEquals(DropReason.LB_BACKEND_GONE, harness.dropFor(answer));
        assertEquals(sessions - 1, harness.sessions(), "the flow ended");
        assertEquals(null, harness.snapshot().events.get("lb-backend-gone-resets"), "no reset for UDP");
    }

    @Test
    void aRemovedServiceLeavesNoSessionBehind() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        long id = harness.receive(PORT4, dnsQuery(7000));
        harness.flush();
        sent(harness, id, PORT4);
        final List<ServiceConfig> withoutDns = new ArrayList<>(config.services());
        withoutDns.removeIf(service -> service.name().equals("dns"));
        harness.dataplane.configureServices(config.serviceNetwork(), withoutDns);
        final int sessions = harness.sessions();
        id = harness.receive(PORT4, dnsQuery(7000));
        harness.flush();
        assertEquals(sessions - 1, harness.sessions(), "the flow's session went with its service");
        assertEquals(DropReason.IP4_NO_ROUTE, harness.dropFor(id),
            "not translated to a backend of a service that is gone: the ClusterIP routes nowhere now");
    }

    @Test
    void aTcpConnectionOfARemovedServiceIsResetAtItsNextSegment() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        openToVip(harness, 40000);
        final List<ServiceConfig> withoutWeb = new ArrayList<>(config.services());
        withoutWeb.removeIf(service -> service.name().equals("web"));
        harness.dataplane.configureServices(config.serviceNetwork(), withoutWeb);
        final int sessions = harness.sessions();
        final long request = harness.receive(PORT1, segment(CLIENT_MAC, PORT1_MAC, CLIENT, 40000, VIP, 80, 1, 2, 0x18,
            10));
        harness.flush();
        assertEquals(sessions - 1, harness.sessions(), "the flow's session went with its service");
        final TcpPacket.TcpHeader reset = sent(harness, request, PORT1).get(TcpPacket.class).getHeader();
        assertTrue(reset.getRst(), reset.toString());
        assertEquals(2, reset.getSequenceNumber(), "<SEQ=SEG.ACK>");
    }

    @Test
    void aFlowKeepsItsBackendWhenAnotherOneGoes() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final Map<Integer, Integer> backendOf = new HashMap<>();
        for (int port = 6000; port < 6040; port++)
        {
            final long id = harness.receive(PORT4, dnsQuery(port));
            harness.flush();
            backendOf.put(port, address(sent(harness, id, PORT4).getHeader().getDstAddr()));
        }
        // Add a third backend: established flows stay where they are.
        harness.dataplane.configureServices(config.serviceNetwork(),
            withDnsBackends(config, "10.4.0.3", "10.4.0.4", "10.4.0.2").services());
        for (final Map.Entry<Integer, Integer> flow : backendOf.entrySet())
        {
            final long id = harness.receive(PORT4, dnsQuery(flow.getKey()));
            harness.flush();
            assertEquals(flow.getValue(), address(sent(harness, id, PORT4).getHeader().getDstAddr()));
        }
    }

    @Test
    void clientIpAffinityKeepsAClientOnOneBackendForItsTimeout() throws Exception
    {
        final String sticky = CONFIG.replace("\"type\": \"LoadBalancer\", \"clusterIP\": \"10.96.0.10\"",
            "\"type\": \"LoadBalancer\", \"clusterIP\": \"10.96.0.10\", \"sessionAffinity\": \"ClientIP\", " +
            "\"sessionAffinityConfig\": { \"clientIP\": { \"timeoutSeconds\": 60 } }");
        final Harness harness = new Harness(sticky);
        final Harness plain = new Harness(CONFIG);
        final long sec = 1_000_000_000L;
        final long first = harness.receiveAt(PORT1, tcpToVip(30000, VIP, 80, 0x02), sec);
        harness.flush();
        final int backend = address(sent(harness, first, PORT4).getHeader().getDstAddr());
        int elsewhereByMaglev = -1;
        for (int port = 30001; port < 30050; port++)
        {
            final long id = harness.receiveAt(PORT1, tcpToVip(port, VIP, 80, 0x02), sec + port);
            final long reference = plain.receiveAt(PORT1, tcpToVip(port, VIP, 80, 0x02), sec + port);
            harness.flush();
            plain.flush();
            assertEquals(backend, address(sent(harness, id, PORT4).getHeader().getDstAddr()), "sticky, port " + port);
            if (address(sent(plain, reference, PORT4).getHeader().getDstAddr()) != backend && elsewhereByMaglev < 0)
            {
                elsewhereByMaglev = port;
            }
        }
        assertTrue(elsewhereByMaglev > 0, "some of these flows would have gone elsewhere without affinity");
        // 61 s after the client's last new flow, the affinity has lapsed: the flow goes where Maglev puts it.
        final long later = harness.receiveAt(PORT1, tcpToVip(elsewhereByMaglev + 1000, VIP, 80, 0x02), 63 * sec);
        final long reference = plain.receiveAt(PORT1, tcpToVip(elsewhereByMaglev + 1000, VIP, 80, 0x02), 63 * sec);
        harness.flush();
        plain.flush();
        assertEquals(address(sent(plain, reference, PORT4).getHeader().getDstAddr()),
            address(sent(harness, later, PORT4).getHeader().getDstAddr()));
        assertEquals(60, ConfigLoader.parse(sticky).services().get(0).affinityTimeoutSeconds());
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(sticky.replace("60", "0")));
    }

    /** The ARP frames sent on a port with that operation (1 request, 2 reply) about {@code address}. */
    private static List<byte[]> arps(final Harness harness, final int port, final int op, final int address)
    {
        final List<byte[]> found = new ArrayList<>();
        for (final Harness.Sent sent : harness.sent)
        {
            final ByteBuffer f = ByteBuffer.wrap(sent.frame());
            if (sent.port() == port && f.getShort(12) == 0x0806 && f.getShort(14 + 6) == op &&
                f.getInt(14 + 14) == address)
            {
                found.add(sent.frame());
            }
        }
        return found;
    }

    @Test
    void theGatewayAnnouncesAVipAndAnswersArpAndPingForIt() throws Exception
    {
        final Harness harness = new Harness(CONFIG);
        harness.receive(PORT1, Frames.ethernet(-1L & 0xFFFF_FFFF_FFFFL, CLIENT_MAC, Frames.ETH_ARP,
            Frames.arp(1, CLIENT_MAC, CLIENT, 0, VIP)));
        final long ping = harness.receive(PORT1, Frames.pingFrame(PORT1_MAC, CLIENT_MAC, CLIENT, VIP, 64, 9, 1));
        harness.flush();
        final List<byte[]> announced = arps(harness, PORT1, 1, VIP);
        assertEquals(1, announced.size(), "one gratuitous ARP for the VIP at start (MetalLB's L2 announcement)");
        final ByteBuffer garp = ByteBuffer.wrap(announced.get(0));
        assertEquals(-1, garp.getInt(0), "broadcast");
        assertEquals(VIP, garp.getInt(14 + 24), "sender and target are both the VIP");
        assertEquals(1, arps(harness, PORT1, 2, VIP).size(), "an ARP reply for the VIP");
        assertEquals(VIP, address(sent(harness, ping, PORT1).getHeader().getSrcAddr()));
        // A VIP given at run time is announced at once, with no traffic needed.
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final List<ServiceConfig> more = new ArrayList<>(config.services());
        more.add(new ServiceConfig("late", ServiceConfig.LOAD_BALANCER, ip("10.96.0.99"), ip("10.1.0.110"),
            List.of(new ServiceConfig.Port("", 6, 80, 80, 30100)), "None", List.of()));
        harness.dataplane.configureServices(config.serviceNetwork(), more);
        harness.tick(10_000_000_000L);
        assertEquals(1, arps(harness, PORT1, 1, ip("10.1.0.110")).size());
    }

    @Test
    void missingAddressesAndNodePortsAreAllocatedAndBadServicesRefusedNamingTheField() throws Exception
    {
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final ServiceConfig empty = config.services().get(2);
        assertEquals(ip("10.1.0.101"), empty.loadBalancerIp(), "the first free external address");
        assertEquals(ip("10.96.0.2"), empty.clusterIp(), "the first free ClusterIP");
        assertEquals(30000, empty.ports().get(0).nodePort(), "the first free node port");
        for (final String[] bad : new String[][] {
            {"\"name\": \"dns\", \"clusterIP\": \"10.96.0.53\"", "services[2].name: a second service named dns"},
            {"\"loadBalancerIP\": \"10.1.0.100\"", "services[0].loadBalancerIP: 10.1.0.100 is outside"},
            {"\"nodePort\": 30080", "nodePort: 40000 not in 30000..32767"},
            {"\"protocol\": \"TCP\"", "protocol: must be TCP or UDP, not SCTP"},
            {"{ \"ip\": \"10.4.0.2\" }", "ip: 224.0.0.1 is not a unicast address"},
            {"\"clusterIP\": \"10.96.0.53\"", "is served twice"}})
        {
            final String broken = switch (bad[1].substring(0, 8))
            {
                case "services" -> bad[1].contains("second") ?
                    CONFIG.replace("\"name\": \"empty\"", bad[0]) :
                    CONFIG.replace("\"externalServiceIPs\": \"10.1.0.100-10.1.0.120\"",
                        "\"externalServiceIPs\": \"10.1.0.110-10.1.0.120\"");
                case "nodePort" -> CONFIG.replace(bad[0], "\"nodePort\": 40000");
                case "protocol" -> CONFIG.replace(bad[0], "\"protocol\": \"SCTP\"");
                case "ip: 224." -> CONFIG.replace(bad[0], "{ \"ip\": \"224.0.0.1\" }");
                default -> CONFIG.replace("\"clusterIP\": \"10.96.0.10\"", bad[0]).replace("\"port\": 80", "\"port\": 53")
                    .replace("\"protocol\": \"TCP\", \"port\": 53", "\"protocol\": \"UDP\", \"port\": 53");
            };
            final ConfigException ex = assertThrows(ConfigException.class, () -> ConfigLoader.parse(broken));
            assertTrue(ex.getMessage().contains(bad[1]), ex.getMessage());
        }
        assertNotEquals(0, config.services().get(0).ports().get(0).nodePort());
    }

    @Test
    void aNodePortIsGivenOnceAcrossServicesAndPicksAvoidEveryGivenOne() throws Exception
    {
        final ServiceConfig picks = new ServiceConfig("picks", ServiceConfig.NODE_PORT, ip("10.96.0.1"), 0,
            List.of(new ServiceConfig.Port("", 6, 80, 80, 0)), "None", List.of());
        final ServiceConfig gives = new ServiceConfig("gives", ServiceConfig.NODE_PORT, ip("10.96.0.2"), 0,
            List.of(new ServiceConfig.Port("", 6, 80, 80, 30000), new ServiceConfig.Port("", 17, 53, 53, 30000)),
            "None", List.of());
        final List<ServiceConfig> allocated = ConfigLoader.allocateServices(null, List.of(picks, gives),
            new io.edgeplane.port.PortTable(List.of()), java.util.Set.of());
        assertEquals(30001, allocated.get(0).ports().get(0).nodePort(), "30000/TCP is given by a later service");
        assertEquals(List.of(30000, 30000), allocated.get(1).ports().stream().map(ServiceConfig.Port::nodePort)
            .toList(), "the same number over TCP and UDP is two node ports");
        org.junit.jupiter.api.Assertions.assertSame(gives, allocated.get(1),
            "nothing missing: the same record (what was built for it is reused)");
        final ServiceConfig twice = new ServiceConfig("twice", ServiceConfig.NODE_PORT, ip("10.96.0.3"), 0,
            List.of(new ServiceConfig.Port("", 6, 81, 81, 30000)), "None", List.of());
        final ConfigException across = assertThrows(ConfigException.class, () -> ConfigLoader.allocateServices(null,
            List.of(gives, twice), new io.edgeplane.port.PortTable(List.of()), java.util.Set.of()));
        assertTrue(across.getMessage().contains("services[1].nodePort: 30000/TCP is already used"), across.getMessage());
        final ServiceConfig inItself = new ServiceConfig("self", ServiceConfig.NODE_PORT, ip("10.96.0.4"), 0,
            List.of(new ServiceConfig.Port("", 6, 80, 80, 30500), new ServiceConfig.Port("", 6, 81, 81, 30500)),
            "None", List.of());
        assertThrows(ConfigException.class, () -> ConfigLoader.allocateServices(null, List.of(inItself),
            new io.edgeplane.port.PortTable(List.of()), java.util.Set.of()));
    }

    @Test
    void aLoadBalancerWithoutNodePortAllocationGetsItsVipAndNoNodePort() throws Exception
    {
        final ServiceConfig vipOnly = io.edgeplane.config.Json.bind(io.edgeplane.config.Json.STRICT.readTree("""
            { "name": "vip-only", "type": "LoadBalancer", "clusterIP": "10.96.0.7",
              "allocateLoadBalancerNodePorts": false,
              "ports": [ { "port": 80 }, { "port": 81, "nodePort": 30081 } ] }
            """), ServiceConfig.class);
        final io.edgeplane.config.ServiceNetworkConfig network = io.edgeplane.config.Json.bind(
            io.edgeplane.config.Json.STRICT.readTree("{ \"externalServiceIPs\": \"10.1.0.100-10.1.0.120\" }"),
            io.edgeplane.config.ServiceNetworkConfig.class);
        final ServiceConfig allocated = ConfigLoader.allocateServices(network, List.of(vipOnly),
            new io.edgeplane.port.PortTable(List.of()), java.util.Set.of()).get(0);
        assertEquals(ip("10.1.0.100"), allocated.loadBalancerIp(), "the VIP is still allocated");
        assertEquals(0, allocated.ports().get(0).nodePort(), "no node port picked");
        assertEquals(30081, allocated.ports().get(1).nodePort(), "one given explicitly is kept");
        final String json = io.edgeplane.config.Json.STRICT.writeValueAsString(allocated);
        assertTrue(json.contains("\"allocateLoadBalancerNodePorts\":false"), json);
        assertEquals(allocated, io.edgeplane.config.Json.bind(io.edgeplane.config.Json.STRICT.readTree(json),
            ServiceConfig.class), "round trip (snapshot, journal)");
        final ConfigException wrongType = assertThrows(ConfigException.class, () -> io.edgeplane.config.Json.bind(
            io.edgeplane.config.Json.STRICT.readTree("""
                { "name": "c", "clusterIP": "10.96.0.8", "allocateLoadBalancerNodePorts": false,
                  "ports": [ { "port": 80 } ] }
                """), ServiceConfig.class));
        assertTrue(wrongType.getMessage().contains("allocateLoadBalancerNodePorts: only for type LoadBalancer"),
            wrongType.getMessage());
    }
}
