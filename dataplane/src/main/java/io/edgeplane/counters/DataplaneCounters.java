package io.edgeplane.counters;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.agrona.concurrent.status.CountersReader.METADATA_LENGTH;
import static org.agrona.concurrent.status.CountersReader.COUNTER_LENGTH;

/**
 * All counters of one dataplane instance, in an Agrona {@link CountersManager}: per port rx/tx packets and bytes,
 * per stage packets, per drop reason, and named events. The worker is the single writer of every value (release stores, so a reader
 * on another thread sees whole values); the control plane only reads.
 * Ids are allocated in a fixed order, so the same config always yields the same ids.
 */
public final class DataplaneCounters
{
    public static final int TYPE_PORT = 1;
    public static final int TYPE_STAGE = 2;
    public static final int TYPE_DROP = 3;
    public static final int TYPE_EVENT = 4;
    /** Room for stage and event counters, which are registered as the graph and its features are built. */
    private static final int NAMED_CAPACITY = 512;
    /** As many ports as a port table holds. */
    private static final int PORT_CAPACITY = 256;

    private final CountersManager manager;
    private final AtomicCounter[] dropCounters = new AtomicCounter[DropReason.maxId() + 1];
    private final AtomicCounter[] portRxPackets;
    private final AtomicCounter[] portRxBytes;
    private final AtomicCounter[] portTxPackets;
    private final AtomicCounter[] portTxBytes;
    private final Map<String, AtomicCounter> stageCounters = new LinkedHashMap<>();
    private final Map<String, AtomicCounter> eventCounters = new LinkedHashMap<>();
    private final Map<String, AtomicCounter> stageVectors = new LinkedHashMap<>();
    private final Map<String, AtomicCounter> stageNanos = new LinkedHashMap<>();
    private final String[] portNames;
    private volatile int ports;

    public DataplaneCounters(final String[] portNames)
    {
        final int total = DropReason.values().length + PORT_CAPACITY * 4 + NAMED_CAPACITY;
        this.manager = new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(total * METADATA_LENGTH)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(total * COUNTER_LENGTH)));
        this.portNames = new String[PORT_CAPACITY];
        portRxPackets = new AtomicCounter[PORT_CAPACITY];
        portRxBytes = new AtomicCounter[PORT_CAPACITY];
        portTxPackets = new AtomicCounter[PORT_CAPACITY];
        portTxBytes = new AtomicCounter[PORT_CAPACITY];
        for (int i = 0; i < portNames.length; i++)
        {
            addPort(i, portNames[i]);
        }
        for (final DropReason reason : DropReason.values())
        {
            dropCounters[reason.id()] = manager.newCounter("drop " + reason.label(), TYPE_DROP);
        }
    }

    /**
     * Register the counters of port {@code index} (control thread; ports are added in index order, or into the slot
     * of a retired tunnel, whose counters are renamed and start again from zero).
     */
    public synchronized void addPort(final int index, final String name)
    {
        portNames[index] = name;
        if (portRxPackets[index] != null)
        {
            reuse(portRxPackets[index], "port " + name + " rx-packets");
            reuse(portRxBytes[index], "port " + name + " rx-bytes");
            reuse(portTxPackets[index], "port " + name + " tx-packets");
            reuse(portTxBytes[index], "port " + name + " tx-bytes");
            return;
        }
        portRxPackets[index] = manager.newCounter("port " + name + " rx-packets", TYPE_PORT);
        portRxBytes[index] = manager.newCounter("port " + name + " rx-bytes", TYPE_PORT);
        portTxPackets[index] = manager.newCounter("port " + name + " tx-packets", TYPE_PORT);
        portTxBytes[index] = manager.newCounter("port " + name + " tx-bytes", TYPE_PORT);
        ports = Math.max(ports, index + 1);
    }

    private static void reuse(final AtomicCounter counter, final String label)
    {
        counter.updateLabel(label);
        counter.setRelease(0);
    }

    /** The port's counters no longer show (a run-time tunnel removed); they stay allocated for the slot's reuse. */
    public synchronized void removePort(final int index)
    {
        portNames[index] = null;
    }

    public AtomicCounter drop(final DropReason reason)
    {
        return dropCounters[reason.id()];
    }

    public AtomicCounter dropById(final int reasonId)
    {
        return dropCounters[reasonId];
    }

    /** The packet counter of a stage, registered on first use (while the graph is built). */
    public AtomicCounter stage(final String name)
    {
        return stageCounters.computeIfAbsent(name, n -> manager.newCounter("stage " + n + " packets", TYPE_STAGE));
    }

    /** Vectors a stage ran (with {@link #stage} and {@link #stageNanos}: the runtime table). */
    public AtomicCounter stageVectors(final String name)
    {
        return stageVectors.computeIfAbsent(name, n -> manager.newCounter("stage " + n + " vectors", TYPE_STAGE));
    }

    /** Nanoseconds a stage spent in its vectors. */
    public AtomicCounter stageNanos(final String name)
    {
        return stageNanos.computeIfAbsent(name, n -> manager.newCounter("stage " + n + " nanos", TYPE_STAGE));
    }

    /** One row of the runtime table. */
    public record StageRuntime(String stage, long packets, long vectors, long nanos)
    {
        public double vectorSize()
        {
            return vectors == 0 ? 0 : (double)packets / vectors;
        }

        public double nanosPerPacket()
        {
            return packets == 0 ? 0 : (double)nanos / packets;
        }

        /** This row minus an earlier reading of it (a measurement window). */
        public StageRuntime since(final StageRuntime earlier)
        {
            return earlier == null ? this : new StageRuntime(stage, packets - earlier.packets,
                vectors - earlier.vectors, nanos - earlier.nanos);
        }
    }

    /** Per stage: packets, vectors and time, in graph registration order (VPP's {@code show runtime}). */
    public java.util.List<StageRuntime> runtime()
    {
        final java.util.List<StageRuntime> rows = new java.util.ArrayList<>();
        stageCounters.forEach((name, counter) -> rows.add(new StageRuntime(name, counter.get(),
            stageVectors.containsKey(name) ? stageVectors.get(name).get() : 0,
            stageNanos.containsKey(name) ? stageNanos.get(name).get() : 0)));
        return rows;
    }

    /**
     * A counter of something that happened other than a drop ({@code neighbor-expired}, {@code worker-errors}),
     * registered on first use, before traffic.
     */
    public AtomicCounter event(final String name)
    {
        return eventCounters.computeIfAbsent(name, n -> manager.newCounter("event " + n, TYPE_EVENT));
    }

    public AtomicCounter rxPackets(final int port)
    {
        return portRxPackets[port];
    }

    public AtomicCounter rxBytes(final int port)
    {
        return portRxBytes[port];
    }

    public AtomicCounter txPackets(final int port)
    {
        return portTxPackets[port];
    }

    public AtomicCounter txBytes(final int port)
    {
        return portTxBytes[port];
    }

    /** A readable copy for reports and the API: ports; stages, drops and events that counted anything; in id order. */
    public Snapshot snapshot()
    {
        final Snapshot snapshot = new Snapshot();
        for (int i = 0, n = ports; i < n; i++)
        {
            if (portNames[i] == null)
            {
                continue;
            }
            final Map<String, Long> port = new LinkedHashMap<>();
            port.put("rx-packets", portRxPackets[i].get());
            port.put("rx-bytes", portRxBytes[i].get());
            port.put("tx-packets", portTxPackets[i].get());
            port.put("tx-bytes", portTxBytes[i].get());
            snapshot.ports.put(portNames[i], port);
        }
        stageCounters.forEach((name, counter) ->
        {
            if (counter.get() != 0)
            {
                snapshot.stages.put(name, counter.get());
            }
        });
        eventCounters.forEach((name, counter) ->
        {
            if (counter.get() != 0)
            {
                snapshot.events.put(name, counter.get());
            }
        });
        for (final DropReason reason : DropReason.values())
        {
            final long value = dropCounters[reason.id()].get();
            if (value != 0)
            {
                snapshot.drops.put(reason.label(), value);
            }
        }
        return snapshot;
    }

    /** Plain data for JSON and text output. */
    public static final class Snapshot
    {
        public final Map<String, Map<String, Long>> ports = new LinkedHashMap<>();
        public final Map<String, Long> stages = new LinkedHashMap<>();
        public final Map<String, Long> drops = new LinkedHashMap<>();
        public final Map<String, Long> events = new LinkedHashMap<>();

        public long drop(final DropReason reason)
        {
            return drops.getOrDefault(reason.label(), 0L);
        }
    }
}
