package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.TxSink;
import io.edgeplane.trace.PacketTracer;

/** Hands frames to the port's transmit sink, counts packets and bytes per port once per vector, frees the slots. */
public final class InterfaceOutputStage extends Stage
{
    public static final String NAME = "interface-output";

    private final DataplaneCounters counters;
    private final PortTable ports;
    private final long[] packets;
    private final long[] bytes;
    private final TxSink sink;

    public InterfaceOutputStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer,
        final PortTable ports, final TxSink sink)
    {
        super(NAME, pool, counters, tracer);
        this.counters = counters;
        this.ports = ports;
        this.packets = new long[PortTable.CAPACITY];
        this.bytes = new long[PortTable.CAPACITY];
        this.sink = sink;
    }

    @Override
    public boolean terminal()
    {
        return true;
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        for (int i = 0, n = batch.count(); i < n; i++)
        {
            final int h = batch.handle(i);
            final int port = pool.outPort(h);
            packets[port]++;
            bytes[port] += pool.frameLength(h);
            if (pool.traced(h))
            {
                trace(h, port, pool.frameLength(h), 0, 0);
            }
            sink.transmit(port, pool, h);
            pool.free(h);
        }
        for (int port = 0, n = ports.count(); port < n; port++)
        {
            if (packets[port] != 0)
            {
                counters.txPackets(port).getAndAddRelease(packets[port]);
                counters.txBytes(port).getAndAddRelease(bytes[port]);
                packets[port] = 0;
                bytes[port] = 0;
            }
        }
    }

    @Override
    public void formatTrace(final int port, final int length, final int c, final int d, final StringBuilder out)
    {
        out.append("tx ").append(ports.name(port)).append(" len ").append(length);
    }
}
