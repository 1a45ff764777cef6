package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.route.FibTables;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.trace.PacketTracer;

/**
 * Reverse-path filtering (RFC 3704), a feature on ip4-unicast enabled on ports whose {@code rpFilter} is not
 * {@code off}: the source address is looked up in the FIB (batched per vector, like ip4-lookup). {@code strict}:
 * the route back to the source must leave through the ingress port (any member of an ECMP group will do, as in
 * Linux); {@code loose}: some route back must exist. Packets failing it are dropped as {@code ip4-rpf-failed}. The
 * internal switch's port uses it so that it never accepts sources that do not live behind it.
 */
public final class ReversePathFilterStage extends FeatureStage
{
    public static final String NAME = "ip4-rpf";
    /** Runs first on ip4-unicast: a spoofed source is refused before any translation sees it. */
    public static final int ORDER = 10;

    private final RoutingTable routes;
    private final PortTable ports;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final int[] sources = new int[StageGraph.INPUT_CAPACITY];
    private final int[] groups = new int[StageGraph.INPUT_CAPACITY];
    private final boolean[] strict;

    public ReversePathFilterStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final RoutingTable routes, final PortTable ports)
    {
        super(NAME, FeatureArc.IP4_UNICAST, ORDER, pool, counters, tracer);
        this.routes = routes;
        this.ports = ports;
        this.strict = new boolean[ports.count()];
        for (int port = 0; port < ports.count(); port++)
        {
            strict[port] = "strict".equals(ports.rpFilter(port));
        }
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        final FibTables fib = routes.tables();
        final int n = batch.count();
        for (int i = 0; i < n; i++)
        {
            sources[i] = ip.wrap(buffer, pool.l3Offset(batch.handle(i))).source();
        }
        fib.lookup(sources, groups, n);
        for (int i = 0; i < n; i++)
        {
            final int h = batch.handle(i);
            final int port = pool.inPort(h);
            final int group = groups[i];
            final boolean pass = group != FibTables.NO_ROUTE && fib.kind(group) == FibTables.KIND_FORWARD &&
                (!strict[port] || routesThrough(fib, group, port));
            if (pass)
            {
                continueArc(h);
            }
            else
            {
                drop(h, DropReason.IP4_RPF_FAILED);
            }
            trace(h, sources[i], strict[port] ? 1 : 0, 0, 0);
        }
    }

    private static boolean routesThrough(final FibTables fib, final int group, final int port)
    {
        for (int m = 0, members = fib.memberCount(group); m < members; m++)
        {
            if (fib.adjacencyPort(fib.adjacencyAt(group, m)) == port)
            {
                return true;
            }
        }
        return false;
    }

    @Override
    public void formatTrace(final int source, final int strictMode, final int c, final int d,
        final StringBuilder out)
    {
        out.append(strictMode != 0 ? "strict" : "loose").append(" reverse path of ");
        Ipv4Address.append(out, source);
    }
}
