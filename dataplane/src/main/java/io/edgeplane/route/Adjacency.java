package io.edgeplane.route;

/**
 * What an adjacency's "next stage" can be: the stage that takes a packet after ip4-lookup picked the adjacency.
 * {@link #REWRITE} writes the next hop's Ethernet header (a port on a wire); a tunnel port's adjacencies name its
 * encapsulation stage instead (VPP's midchain adjacency). The lookup stage resolves these names to graph indices.
 */
public final class Adjacency
{
    public static final int REWRITE = 0;
    public static final int VXLAN_ENCAP = 1;

    private static final String[] STAGES = {"ip4-rewrite", "vxlan-encap"};

    private Adjacency()
    {
    }

    /** The stage name of each next kind, indexed by the constants above. */
    public static String[] stageNames()
    {
        return STAGES.clone();
    }
}
