package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.trace.PacketTracer;

/**
 * Decides where an IPv4 packet goes: to the gateway itself (ip4-local), or out of the port whose connected subnet
 * holds the destination. (The routing issue replaces the connected-subnet scan with the compiled FIB.)
 */
public final class Ip4LookupStage extends Stage
{
    private final PortTable ports;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();

    public Ip4LookupStage(
        final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer, final PortTable ports)
    {
        super(StageId.IP4_LOOKUP, pool, counters, tracer);
        this.ports = ports;
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            ip.wrap(buffer, pool.l3Offset(h));
            final int destination = ip.destination();
            if (ports.ownerOf(destination) >= 0)
            {
                pool.next(h, StageId.IP4_LOCAL);
            }
            else if (ports.isSubnetBroadcast(destination))
            {
                drop(h, DropReason.IP4_DESTINATION_MULTICAST);
            }
            else
            {
                final int port = ports.connectedPortFor(destination);
                if (port < 0 || !ports.adminUp(port))
                {
                    drop(h, DropReason.IP4_NO_ROUTE);
                }
                else
                {
                    pool.outPort(h, port);
                    pool.nextHopAddress(h, destination);
                    pool.next(h, StageId.IP4_REWRITE);
                }
            }
            trace(h, destination, pool.outPort(h), pool.nextHopAddress(h), 0);
        }
    }

    @Override
    public void formatTrace(final int destination, final int port, final int nextHop, final int d,
        final StringBuilder out)
    {
        Ipv4Address.append(out, destination);
        if (port >= 0)
        {
            out.append(" via ");
            Ipv4Address.append(out, nextHop).append(" port ").append(port);
        }
    }
}
