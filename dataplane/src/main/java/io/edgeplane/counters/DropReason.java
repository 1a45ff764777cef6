package io.edgeplane.counters;

/**
 * Every reason a packet leaves the pipeline other than by transmission, each with a stable id and its own counter.
 * {@link #isDrop()} is false for packets the gateway consumed on purpose (an ARP reply it learned from); those are
 * counted but not written to {@code drops.pcap}.
 */
public enum DropReason
{
    RX_OVERSIZE(1, "rx-oversize", "frame larger than a packet slot"),
    RX_NO_BUFFER(2, "rx-no-buffer", "packet pool exhausted at receive"),
    ETH_TRUNCATED(3, "eth-truncated", "frame shorter than an Ethernet header"),
    ETH_BAD_SOURCE_MAC(4, "eth-bad-src-mac", "multicast or broadcast source MAC"),
    ETH_NOT_FOR_US(5, "eth-not-for-us", "destination MAC is neither the port's nor broadcast"),
    ETH_UNKNOWN_TYPE(6, "eth-unknown-ethertype", "EtherType not handled"),
    IP6_UNSUPPORTED(7, "ip6-unsupported", "IPv6 is not forwarded"),
    VLAN_TRUNCATED(8, "vlan-truncated", "802.1Q tag cut short"),
    VLAN_MISMATCH(9, "vlan-mismatch", "VLAN id not configured on the port, or stacked tags"),
    ARP_TRUNCATED(10, "arp-truncated", "ARP packet shorter than 28 bytes"),
    ARP_MALFORMED(11, "arp-malformed", "ARP not Ethernet/IPv4, or unknown operation"),
    ARP_NOT_FOR_US(12, "arp-not-for-us", "ARP request for an address the gateway does not own"),
    ARP_REPLY_CONSUMED(13, "arp-reply-consumed", "ARP reply learned into the neighbor table", false),
    IP4_TOO_SHORT(14, "ip4-too-short", "fewer than 20 bytes after the Ethernet header"),
    IP4_BAD_VERSION(15, "ip4-bad-version", "IP version is not 4"),
    IP4_BAD_IHL(16, "ip4-bad-ihl", "IHL below 5"),
    IP4_HEADER_TRUNCATED(17, "ip4-header-truncated", "IHL x 4 beyond the bytes present"),
    IP4_BAD_CHECKSUM(18, "ip4-bad-checksum", "IPv4 header checksum mismatch"),
    IP4_LENGTH_TOO_BIG(19, "ip4-length-too-big", "total length beyond the frame"),
    IP4_LENGTH_TOO_SMALL(20, "ip4-length-too-small", "total length below the header length"),
    IP4_SOURCE_MARTIAN(21, "ip4-src-martian", "source in 0/8, 127/8, 224/4 or 255.255.255.255"),
    IP4_DESTINATION_MARTIAN(22, "ip4-dst-martian", "destination in 0/8 or 127/8"),
    IP4_DESTINATION_MULTICAST(23, "ip4-dst-multicast", "multicast or broadcast destination is not forwarded"),
    UDP_TRUNCATED(24, "udp-truncated", "IP payload shorter than a UDP header"),
    UDP_BAD_LENGTH(25, "udp-bad-length", "UDP length below 8 or beyond the IP payload"),
    TCP_TRUNCATED(26, "tcp-truncated", "IP payload shorter than a TCP header"),
    TCP_BAD_OFFSET(27, "tcp-bad-offset", "TCP data offset below 5 or beyond the packet"),
    ICMP_TRUNCATED(28, "icmp-truncated", "ICMP message shorter than 8 bytes"),
    IP4_TTL_EXPIRED(29, "ip4-ttl-expired", "TTL would reach zero"),
    IP4_NO_ROUTE(30, "ip4-no-route", "no route to the destination"),
    IP4_DF_TOO_BIG(31, "ip4-df-too-big", "larger than the egress MTU with DF set"),
    IP4_MTU_EXCEEDED(32, "ip4-mtu-exceeded", "larger than the egress MTU; fragmentation is not performed"),
    IP4_LOCAL_UNSUPPORTED(33, "ip4-local-unsupported", "addressed to the gateway, protocol not served"),
    ICMP_RATE_LIMITED(34, "icmp-rate-limited", "ICMP error suppressed by the rate limit"),
    ICMP_ERROR_SUPPRESSED(35, "icmp-error-suppressed", "no ICMP error about an ICMP error, a fragment or a broadcast"),
    NEIGHBOR_UNRESOLVED(36, "neighbor-unresolved", "next-hop MAC unknown; ARP request sent"),
    PIPELINE_OVERFLOW(37, "pipeline-overflow", "a stage's input vector was full"),
    PORT_DOWN(38, "port-down", "ingress or egress port administratively down"),
    ICMP_ECHO_RATE_LIMITED(39, "icmp-echo-rate-limited", "echo request beyond the echo reply rate limit"),
    IP4_SOURCE_ROUTE(40, "ip4-source-route", "loose or strict source route option (RFC 7126): not accepted"),
    IP4_BAD_OPTIONS(41, "ip4-bad-options", "IPv4 options with an impossible length"),
    IP4_LINK_LOCAL(42, "ip4-link-local", "link-local 169.254.0.0/16 source or destination is never routed"),
    IP4_SOURCE_IS_LOCAL(43, "ip4-src-is-local", "martian source: one of the gateway's own addresses"),
    IP4_L2_BROADCAST(44, "ip4-l2-not-unicast", "unicast IPv4 for another host in a broadcast frame"),
    IP4_RPF_FAILED(45, "ip4-rpf-failed", "source does not route back through the ingress port (rpFilter)"),
    VXLAN_TRUNCATED(46, "vxlan-truncated", "VXLAN packet shorter than its UDP, VXLAN and inner Ethernet headers"),
    VXLAN_BAD_FLAGS(47, "vxlan-bad-flags", "VXLAN header without the I flag (RFC 7348 §5)"),
    VXLAN_NO_SUCH_TUNNEL(48, "vxlan-no-such-tunnel", "VXLAN packet for a VNI no tunnel port has"),
    VXLAN_NO_VTEP(49, "vxlan-no-vtep", "next hop on a tunnel port with no known VTEP"),
    VXLAN_NO_HEADROOM(50, "vxlan-no-headroom", "no room in front of the packet for the outer headers"),
    IP4_FRAGMENT_OVERFLOW(51, "ip4-fragment-overflow", "fragment offset plus length beyond 65,535 bytes"),
    NAT_NO_SESSION(52, "nat-no-session", "to a NAT address, matching no session (unsolicited, filtered)"),
    NAT_TABLE_FULL(53, "nat-table-full", "new flow refused: the session table is at maxSessions"),
    NAT_PORTS_EXHAUSTED(54, "nat-ports-exhausted", "new flow refused: no free outside port for its address"),
    NAT_FRAGMENT_UNKNOWN(55, "nat-fragment-unknown", "non-first fragment of no known datagram, the hold full"),
    NAT_FRAGMENT_TIMEOUT(56, "nat-fragment-timeout", "fragment held 2 s for its first fragment, which never came"),
    LB_CLUSTER_IP_SOURCE(57, "lb-cluster-ip-source", "a ClusterIP reached from outside clusterSources"),
    LB_NO_BACKEND(58, "lb-no-backend",
        "a service with no ready backend: answered with ICMP port unreachable (a TCP segment but a SYN: a reset)"),
    LB_TUPLE_CLASH(59, "lb-tuple-clash", "the backend side of a new service flow is another session's"),
    LB_BACKEND_GONE(60, "lb-backend-gone",
        "from a backend that left its service, on a flow it served: the flow ends (TCP: a reset goes to the client)");

    private final int id;
    private final String label;
    private final String description;
    private final boolean drop;

    DropReason(final int id, final String label, final String description)
    {
        this(id, label, description, true);
    }

    DropReason(final int id, final String label, final String description, final boolean drop)
    {
        this.id = id;
        this.label = label;
        this.description = description;
        this.drop = drop;
    }

    private static final DropReason[] BY_ID;

    static
    {
        int max = 0;
        for (final DropReason reason : values())
        {
            max = Math.max(max, reason.id);
        }
        BY_ID = new DropReason[max + 1];
        for (final DropReason reason : values())
        {
            if (BY_ID[reason.id] != null)
            {
                throw new IllegalStateException("duplicate drop reason id " + reason.id);
            }
            BY_ID[reason.id] = reason;
        }
    }

    public int id()
    {
        return id;
    }

    public String label()
    {
        return label;
    }

    public String description()
    {
        return description;
    }

    /** False for packets consumed on purpose; those never go to drops.pcap. */
    public boolean isDrop()
    {
        return drop;
    }

    public static int maxId()
    {
        return BY_ID.length - 1;
    }

    /** @return the reason with that id, or null. */
    public static DropReason byId(final int id)
    {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
