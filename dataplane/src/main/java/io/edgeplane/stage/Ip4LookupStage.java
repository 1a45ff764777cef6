package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.route.Adjacency;
import io.edgeplane.route.FibTables;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.trace.PacketTracer;

/**
 * Longest-prefix match in the compiled FIB, batched over the vector (the tables are read once per vector, so a
 * concurrent route change is seen whole at the next vector), then: the gateway's own addresses go to ip4-local,
 * directed broadcasts are dropped, and forwarded packets take the adjacency their flow hash picks from the route's
 * group (ECMP): its egress port, next hop and next stage (ip4-rewrite, or a tunnel's encapsulation). No route: an
 * ICMP net unreachable is generated for the source.
 */
public final class Ip4LookupStage extends Stage
{
    public static final String NAME = "ip4-lookup";

    private final RoutingTable routes;
    private final PortTable ports;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final int[] destinations = new int[StageGraph.INPUT_CAPACITY];
    private final int[] groups = new int[StageGraph.INPUT_CAPACITY];
    private final String[] adjacencyStages = Adjacency.stageNames();
    /** Graph index per adjacency next kind; -1 where that stage is not in this graph. */
    private final int[] adjacencyNext = new int[adjacencyStages.length];
    private int ip4Local;
    private int icmpError;

    /**
     * @param adjacencyStages the adjacency next stages this graph has ({@link Adjacency#stageNames()}; a tunnel's
     *                        encapsulation only where tunnels are built in).
     */
    public Ip4LookupStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final RoutingTable routes, final PortTable ports, final String... adjacencyStages)
    {
        super(NAME, pool, counters, tracer, nexts(adjacencyStages));
        this.routes = routes;
        this.ports = ports;
    }

    private static String[] nexts(final String[] adjacencyStages)
    {
        final String[] names = new String[2 + adjacencyStages.length];
        names[0] = Ip4LocalStage.NAME;
        names[1] = IcmpErrorStage.NAME;
        System.arraycopy(adjacencyStages, 0, names, 2, adjacencyStages.length);
        return names;
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        ip4Local = binder.next(Ip4LocalStage.NAME);
        icmpError = binder.next(IcmpErrorStage.NAME);
        for (int i = 0; i < adjacencyStages.length; i++)
        {
            adjacencyNext[i] = nextNames().contains(adjacencyStages[i]) ? binder.next(adjacencyStages[i]) : -1;
        }
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        final FibTables fib = routes.tables();
        final int n = batch.count();
        for (int i = 0; i < n; i++)
        {
            destinations[i] = ip.wrap(buffer, pool.l3Offset(batch.handle(i))).destination();
        }
        // One batched lookup per vector: the table reads of all packets are issued before any is used.
        fib.lookup(destinations, groups, n);
        for (int i = 0; i < n; i++)
        {
            final int h = batch.handle(i);
            final int destination = destinations[i];
            final int group = groups[i];
            int port = -1;
            if (group == FibTables.NO_ROUTE)
            {
                dropVia(h, DropReason.IP4_NO_ROUTE, icmpError);
            }
            else
            {
                final int kind = fib.kind(group);
                if (kind == FibTables.KIND_LOCAL)
                {
                    pool.next(h, ip4Local);
                }
                else if (kind == FibTables.KIND_BROADCAST)
                {
                    drop(h, DropReason.IP4_DESTINATION_MULTICAST);
                }
                else if ((pool.flags(h) & PacketPool.FLAG_L2_BROADCAST) != 0)
                {
                    // Linux forwards only frames addressed to it at layer 2 (PACKET_HOST).
                    drop(h, DropReason.IP4_L2_BROADCAST);
                }
                else
                {
                    final int adjacency = fib.adjacency(group, pool.flowHash(h));
                    final int gateway = fib.adjacencyNextHop(adjacency);
                    final int next = adjacencyNext[fib.adjacencyNext(adjacency)];
                    port = fib.adjacencyPort(adjacency);
                    pool.adjacency(h, adjacency);
                    pool.outPort(h, port);
                    pool.nextHopAddress(h, gateway == 0 ? destination : gateway);
                    if (next < 0)
                    {
                        port = -1;
                        drop(h, DropReason.IP4_NO_ROUTE);
                    }
                    else
                    {
                        pool.next(h, next);
                    }
                }
            }
            if (pool.traced(h))
            {
                trace(h, destination, port, pool.nextHopAddress(h),
                    group == FibTables.NO_ROUTE ? 0 : fib.memberCount(group));
            }
        }
    }

    @Override
    public void formatTrace(final int destination, final int port, final int nextHop, final int members,
        final StringBuilder out)
    {
        Ipv4Address.append(out, destination);
        if (port >= 0)
        {
            out.append(" via ");
            Ipv4Address.append(out, nextHop).append(' ').append(ports.name(port));
            if (members > 1)
            {
                out.append(" (ecmp 1 of ").append(members).append(')');
            }
        }
        else if (members == 0)
        {
            out.append(" no route");
        }
    }
}
