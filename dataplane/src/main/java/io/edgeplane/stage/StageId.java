package io.edgeplane.stage;

/**
 * The nodes of the packet graph. A stage sets each packet's next node to one of these; the {@link Pipeline} moves
 * the packet into that node's input vector. The order is the usual forward direction, but edges may point back
 * (a generated ICMP error is routed by ip4-lookup again); the pipeline runs until every vector is empty.
 */
public final class StageId
{
    public static final int ETHERNET_INPUT = 0;
    public static final int ARP_INPUT = 1;
    public static final int IP4_INPUT = 2;
    public static final int IP4_LOCAL = 3;
    public static final int IP4_LOOKUP = 4;
    public static final int IP4_REWRITE = 5;
    public static final int ICMP_ERROR = 6;
    public static final int INTERFACE_OUTPUT = 7;
    public static final int ERROR_DROP = 8;
    public static final int COUNT = 9;

    private static final String[] NAMES = {
        "ethernet-input", "arp-input", "ip4-input", "ip4-local", "ip4-lookup", "ip4-rewrite", "icmp-error",
        "interface-output", "error-drop"
    };

    private StageId()
    {
    }

    public static String name(final int id)
    {
        return id >= 0 && id < NAMES.length ? NAMES[id] : "stage-" + id;
    }

    public static String[] names()
    {
        return NAMES.clone();
    }
}
