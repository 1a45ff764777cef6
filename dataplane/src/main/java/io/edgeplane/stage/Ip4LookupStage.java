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
 * Longest-prefix match in the compiled FIB, batched over the vector (the tables are read once per vector, so a
 * concurrent route change is seen whole at the next vector), then: the gateway's own addresses go to ip4-local,
 * directed broadcasts are dropped, and forwarded packets get their egress port and next hop from the group member their
 * flow hash picks (ECMP). No route: an ICMP net unreachable is generated for the source.
 */
public final class Ip4LookupStage extends Stage
{
    private final RoutingTable routes;
    private final PortTable ports;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final int[] destinations = new int[Pipeline.INPUT_CAPACITY];
    private final int[] groups = new int[Pipeline.INPUT_CAPACITY];

    public Ip4LookupStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final RoutingTable routes, final PortTable ports)
    {
        super(StageId.IP4_LOOKUP, pool, counters, tracer);
        this.routes = routes;
        this.ports = ports;
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
            if (group == FibTables.NO_ROUTE)
            {
                dropWithIcmpError(h, DropReason.IP4_NO_ROUTE);
            }
            else
            {
                final int kind = fib.kind(group);
                if (kind == FibTables.KIND_LOCAL)
                {
                    pool.next(h, StageId.IP4_LOCAL);
                }
                else if (kind == FibTables.KIND_BROADCAST)
                {
                    drop(h, DropReason.IP4_DESTINATION_MULTICAST);
                }
                else
                {
                    final int member = fib.member(group, pool.flowHash(h));
                    final int gateway = fib.memberGateway(member);
                    pool.outPort(h, fib.memberPort(member));
                    pool.nextHopAddress(h, gateway == 0 ? destination : gateway);
                    pool.next(h, StageId.IP4_REWRITE);
                }
            }
            if (pool.traced(h))
            {
                trace(h, destination, pool.next(h) == StageId.IP4_REWRITE ? pool.outPort(h) : -1,
                    pool.nextHopAddress(h), group == FibTables.NO_ROUTE ? 0 : fib.memberCount(group));
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
