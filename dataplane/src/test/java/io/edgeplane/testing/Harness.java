package io.edgeplane.testing;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.TxSink;
import io.edgeplane.session.SessionTable;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.Workers;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * A dataplane with recording sinks: every transmitted frame (port + bytes) and every drop (packet id + reason).
 */
public final class Harness
{
    /** Three ports; two static neighbors; used by most tests. */
    public static final String CONFIG = """
        {
          "ports": [
            { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
            { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24" },
            { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24", "mtu": 1400 }
          ],
          "neighbors": [
            { "interface": "Port1", "ip": "10.1.0.10", "mac": "02:00:00:00:01:10" },
            { "interface": "Port2", "ip": "10.2.0.20", "mac": "02:00:00:00:02:20" },
            { "interface": "Port3", "ip": "10.3.0.30", "mac": "02:00:00:00:03:30" }
          ]
        }
        """;

    public static final long PORT1_MAC = 0x0200_0000_0101L;
    public static final long CLIENT_MAC = 0x0200_0000_0110L;

    public record Sent(int port, long packetId, byte[] frame)
    {
    }

    public record Dropped(long packetId, DropReason reason)
    {
    }

    public final List<Sent> sent = new ArrayList<>();
    public final List<Dropped> dropped = new ArrayList<>();
    public final Dataplane dataplane;
    /** All workers (the config's {@code workers}, or the {@code edgeplane.test.workers} property's). */
    public final Workers workers;
    private final UnsafeBuffer frameBuffer = new UnsafeBuffer(new byte[0]);
    private long nextId = 1;

    public Harness() throws ConfigException
    {
        this(CONFIG);
    }

    public Harness(final String json) throws ConfigException
    {
        this(ConfigLoader.parse(json), 1024);
    }

    public Harness(final DataplaneConfig config, final int poolSlots) throws ConfigException
    {
        this(config, poolSlots, List.of());
    }

    /** A harness whose dataplane has these feature stages registered on their arcs. */
    public Harness(final String json, final List<Dataplane.Feature> features) throws ConfigException
    {
        this(ConfigLoader.parse(json), 1024, features);
    }

    public Harness(final DataplaneConfig config, final int poolSlots, final List<Dataplane.Feature> features)
        throws ConfigException
    {
        final PortTable ports = new PortTable(config.ports());
        final TxSink tx = (port, pool, h) ->
        {
            final byte[] frame = new byte[pool.frameLength(h)];
            pool.buffer().getBytes(pool.frameOffset(h), frame);
            sent.add(new Sent(port, pool.packetId(h), frame));
        };
        workers = new Workers(config, config.workersOr(Integer.getInteger(WORKERS_PROPERTY, 1)),
            Workers.multiplierFor(config.flowHashSeed()), poolSlots, ports, null, worker -> tx,
            (pool, h, reason) -> dropped.add(new Dropped(pool.packetId(h), reason)), features);
        dataplane = workers.first();
    }

    /** Run a test class's dataplane with this many workers when its config does not say (the second test pass). */
    public static final String WORKERS_PROPERTY = "edgeplane.test.workers";

    /** Every worker's counters, summed. */
    public io.edgeplane.counters.DataplaneCounters.Snapshot snapshot()
    {
        return workers.counters().snapshot();
    }

    /** Advance every worker's clock; returns the timers fired. */
    public int tick(final long nowNanos)
    {
        return workers.tick(nowNanos);
    }

    /** Pool slots over all workers. */
    public int slotCount()
    {
        int slots = 0;
        for (int w = 0; w < workers.count(); w++)
        {
            slots += workers.get(w).pool().slotCount();
        }
        return slots;
    }

    /** Sessions in every worker's connection table. */
    public int sessions()
    {
        int sum = 0;
        for (int w = 0; w < workers.count(); w++)
        {
            final SessionTable table = workers.get(w).sessions();
            sum += table == null ? 0 : table.size();
        }
        return sum;
    }

    /** Receive one frame on a port; returns its packet id. Call {@link #flush()} to process. */
    public long receive(final int port, final byte[] frame)
    {
        return receiveAt(port, frame, nextId * 1000);
    }

    /** Receive one frame with a given packet time (drives the worker clock and its timers). */
    public long receiveAt(final int port, final byte[] frame, final long timestampNanos)
    {
        final long id = nextId++;
        frameBuffer.wrap(frame);
        final DropReason rxDrop = workers.receive(port, frameBuffer, 0, frame.length, id, timestampNanos);
        if (rxDrop != null)
        {
            dropped.add(new Dropped(id, rxDrop));
        }
        return id;
    }

    public void flush()
    {
        workers.flush();
    }

    public Sent sentFor(final long packetId)
    {
        return sent.stream().filter(s -> s.packetId() == packetId).findFirst().orElse(null);
    }

    public DropReason dropFor(final long packetId)
    {
        return dropped.stream().filter(d -> d.packetId() == packetId).map(Dropped::reason).findFirst().orElse(null);
    }

    public int freeSlots()
    {
        int free = 0;
        for (int w = 0; w < workers.count(); w++)
        {
            free += workers.get(w).pool().freeCount();
        }
        return free;
    }
}
