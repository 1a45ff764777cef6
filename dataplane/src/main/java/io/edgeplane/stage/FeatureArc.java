package io.edgeplane.stage;

import io.edgeplane.buffer.PacketPool;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An ordered list of optional stages a packet passes on its way between two core stages, enabled per interface
 * (VPP's feature arcs). {@link #IP4_UNICAST} runs after ip4-input and before ip4-lookup, keyed by the ingress port
 * (connection tracking, service DNAT, VXLAN decap); {@link #IP4_OUTPUT} runs after ip4-rewrite and before
 * interface-output, keyed by the egress port (SNAT). A feature registers a stage on an arc with an order; the core
 * stages only ask the arc where a packet goes next, so they never know which features exist.
 * <p>
 * The per-port answer is compiled into a table {@code next[port][position]} (position 0: entering the arc; position
 * i + 1: after the i-th feature) that the control plane replaces whole on every change (one volatile store), so a
 * worker sees the old or the new chain, never a mix. With nothing enabled on a port, entering the arc is one array
 * read that yields the arc's end stage: a disabled arc costs nothing measurable.
 */
public final class FeatureArc
{
    public static final String IP4_UNICAST = "ip4-unicast";
    public static final String IP4_OUTPUT = "ip4-output";
    /** Ports an arc has room for (config ports plus tunnel ports added at run time). */
    public static final int MAX_PORTS = 256;

    private final String name;
    private final String entryStage;
    private final String endStage;
    private final int portField;
    private final List<Registration> registrations = new ArrayList<>();
    private String[] features = new String[0];
    private int[] featureStages;
    private int end = -1;
    private boolean[][] enabled;
    private volatile int[][] next;
    private final List<FeatureArc> mirrors = new ArrayList<>();

    /** A feature on the arc: its stage's name and its place (lower runs first). */
    public record Registration(String stage, int order)
    {
    }

    /**
     * @param entryStage the core stage that sends packets into the arc.
     * @param endStage   where a packet goes after the last enabled feature.
     * @param portField  the packet metadata field naming the interface the features are enabled on.
     */
    public FeatureArc(final String name, final String entryStage, final String endStage, final int portField)
    {
        this.name = name;
        this.entryStage = entryStage;
        this.endStage = endStage;
        this.portField = portField;
    }

    public static FeatureArc ip4Unicast()
    {
        return new FeatureArc(IP4_UNICAST, "ip4-input", "ip4-lookup", PacketPool.IN_PORT);
    }

    public static FeatureArc ip4Output()
    {
        return new FeatureArc(IP4_OUTPUT, "ip4-rewrite", "interface-output", PacketPool.OUT_PORT);
    }

    public String name()
    {
        return name;
    }

    String entryStage()
    {
        return entryStage;
    }

    String endStage()
    {
        return endStage;
    }

    /** Register a feature stage before the graph is assembled. */
    void register(final Registration registration)
    {
        if (end >= 0)
        {
            throw new IllegalStateException("arc " + name + " is assembled already");
        }
        registrations.add(registration);
    }

    /** The feature stage names in arc order. */
    public List<String> features()
    {
        return List.of(features);
    }

    void assemble(final StageGraph.Binder binder)
    {
        registrations.sort(Comparator.comparingInt(Registration::order).thenComparing(Registration::stage));
        features = new String[registrations.size()];
        featureStages = new int[features.length];
        for (int i = 0; i < features.length; i++)
        {
            features[i] = registrations.get(i).stage();
            featureStages[i] = binder.index(features[i]);
        }
        end = binder.index(endStage);
        enabled = new boolean[MAX_PORTS][features.length];
        next = compile();
    }

    /** The position of a feature (its index in arc order), or -1. */
    int position(final String feature)
    {
        for (int i = 0; i < features.length; i++)
        {
            if (features[i].equals(feature))
            {
                return i;
            }
        }
        return -1;
    }

    /** The packet's interface for this arc. */
    public int port(final PacketPool pool, final int h)
    {
        return pool.meta(h, portField);
    }

    /** Where a packet entering the arc on {@code port} goes: the first enabled feature, or the end stage. */
    public int first(final int port)
    {
        return next[port][0];
    }

    /** Where a packet goes after feature {@code position} on {@code port}. */
    public int after(final int port, final int position)
    {
        return next[port][position + 1];
    }

    /** Turn a feature on or off for one port (control thread); workers see the new chain from their next read. */
    public synchronized void enable(final String feature, final int port, final boolean on)
    {
        final int position = position(feature);
        if (position < 0)
        {
            throw new IllegalArgumentException("no feature " + feature + " on arc " + name);
        }
        if (port < 0 || port >= MAX_PORTS)
        {
            throw new IllegalArgumentException("port " + port + " out of range");
        }
        if (enabled[port][position] != on)
        {
            enabled[port][position] = on;
            next = compile();
        }
        for (final FeatureArc mirror : mirrors)
        {
            mirror.enable(feature, port, on);
        }
    }

    /**
     * Another worker's copy of this arc (same features): it takes this arc's state now and every later change, so
     * the control plane enables a feature once for all workers. Each worker keeps its own compiled table (stage
     * indexes are its graph's).
     */
    public synchronized void mirror(final FeatureArc other)
    {
        if (!other.features().equals(features()))
        {
            throw new IllegalArgumentException("arc " + name + ": a mirror must have the same features");
        }
        for (int port = 0; port < MAX_PORTS; port++)
        {
            for (int position = 0; position < features.length; position++)
            {
                other.enable(features[position], port, enabled[port][position]);
            }
        }
        mirrors.add(other);
    }

    public synchronized boolean enabled(final String feature, final int port)
    {
        final int position = position(feature);
        return position >= 0 && enabled[port][position];
    }

    private int[][] compile()
    {
        final int[][] table = new int[MAX_PORTS][features.length + 1];
        for (int port = 0; port < MAX_PORTS; port++)
        {
            int following = end;
            for (int position = features.length; position >= 0; position--)
            {
                table[port][position] = following;
                if (position > 0 && enabled[port][position - 1])
                {
                    following = featureStages[position - 1];
                }
            }
        }
        return table;
    }
}
