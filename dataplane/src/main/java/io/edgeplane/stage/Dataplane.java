package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.NeighborConfig;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.TxSink;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.trace.PacketTracer;
import io.edgeplane.trace.TraceFormatter;
import org.agrona.DirectBuffer;

/**
 * One worker's dataplane: pool, tables, stages and the pipeline, assembled from a config. Ports call
 * {@link #receive} per frame (it copies the frame into a pool slot, as a NIC would DMA it) and {@link #flush} when
 * their burst ends; full vectors are processed as they fill. Owned by one thread.
 */
public final class Dataplane
{
    public static final int DEFAULT_POOL_SLOTS = 4096;
    public static final int NEIGHBOR_CAPACITY = 65536;
    public static final int TRACE_CAPACITY = 1 << 16;

    private final PacketPool pool;
    private final PortTable ports;
    private final NeighborTable neighbors;
    private final DataplaneCounters counters;
    private final PacketTracer tracer;
    private final Pipeline pipeline;
    private final InterfaceOutputStage output;
    private final ErrorDropStage errorDrop;
    private final PacketBatch rx = new PacketBatch();

    public Dataplane(final DataplaneConfig config, final PacketPool pool, final TxSink txSink, final DropSink dropSink)
    {
        this.pool = pool;
        this.ports = new PortTable(config.ports());
        this.neighbors = new NeighborTable(NEIGHBOR_CAPACITY);
        for (final NeighborConfig neighbor : config.neighbors())
        {
            neighbors.addStatic(ports.indexOf(neighbor.interfaceName()), neighbor.address(), neighbor.mac());
        }
        this.counters = new DataplaneCounters(ports.names(), StageId.names());
        this.tracer = new PacketTracer(TRACE_CAPACITY);
        this.output = new InterfaceOutputStage(pool, counters, tracer, ports.count(), txSink);
        this.errorDrop = new ErrorDropStage(pool, counters, tracer, dropSink);
        this.pipeline = new Pipeline(pool, counters,
            new EthernetInputStage(pool, counters, tracer, ports),
            new ArpInputStage(pool, counters, tracer, ports, neighbors),
            new Ip4InputStage(pool, counters, tracer, config.flowHashSeed()),
            new Ip4LocalStage(pool, counters, tracer),
            new Ip4LookupStage(pool, counters, tracer, ports),
            new Ip4RewriteStage(pool, counters, tracer, ports, neighbors),
            new IcmpErrorPlaceholder(pool, counters, tracer),
            output,
            errorDrop);
    }

    /**
     * Copy one received frame into the pool and queue it; processes the vector when it is full.
     *
     * @return null when accepted, otherwise the reason it was dropped at receive (already counted).
     */
    public DropReason receive(final int port, final DirectBuffer frame, final int offset, final int length,
        final long packetId, final long timestampNanos)
    {
        counters.rxPackets(port).getAndAddRelease(1);
        counters.rxBytes(port).getAndAddRelease(length);
        if (length > pool.maxFrameLength())
        {
            counters.drop(DropReason.RX_OVERSIZE).incrementRelease();
            return DropReason.RX_OVERSIZE;
        }
        final int h = pool.allocate();
        if (h == PacketPool.NO_PACKET)
        {
            counters.drop(DropReason.RX_NO_BUFFER).incrementRelease();
            return DropReason.RX_NO_BUFFER;
        }
        pool.buffer().putBytes(pool.frameOffset(h), frame, offset, length);
        pool.frameLength(h, length);
        pool.inPort(h, port);
        pool.packetId(h, packetId);
        pool.timestampNanos(h, timestampNanos);
        pool.next(h, StageId.ETHERNET_INPUT);
        tracer.onReceive(pool, h);
        rx.add(h);
        if (rx.isFull())
        {
            pipeline.process(rx);
        }
        return null;
    }

    /** Process whatever was received and not yet processed. */
    public void flush()
    {
        if (rx.count() > 0)
        {
            pipeline.process(rx);
        }
    }

    public void txSink(final TxSink sink)
    {
        output.sink(sink);
    }

    public void dropSink(final DropSink sink)
    {
        errorDrop.sink(sink);
    }

    public PacketPool pool()
    {
        return pool;
    }

    public PortTable ports()
    {
        return ports;
    }

    public NeighborTable neighbors()
    {
        return neighbors;
    }

    public DataplaneCounters counters()
    {
        return counters;
    }

    public PacketTracer tracer()
    {
        return tracer;
    }

    public Pipeline pipeline()
    {
        return pipeline;
    }

    public String formatTrace()
    {
        return TraceFormatter.format(tracer, pipeline);
    }
}
