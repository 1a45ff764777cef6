package io.edgeplane.stage;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.ArpFlyweight;
import io.edgeplane.proto.EthernetFlyweight;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.timer.WorkerTimers;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * ARP on the worker's clock: requests for unresolved next hops, paced to one per neighbor per
 * {@link #REQUEST_INTERVAL_NANOS} with a timer that ends the pause, and the ageing of learned entries, kernel-like:
 * an entry is reachable for {@link #REACHABLE_NANOS} after it was learned or last confirmed by ARP from that host;
 * then it is probed with a unicast request (still used meanwhile, as Linux uses a STALE entry), and removed when
 * no ARP confirmed it within {@link #PROBE_NANOS}. Static entries never age. Owned by the worker thread.
 */
public final class NeighborResolver
{
    public static final long REQUEST_INTERVAL_NANOS = 1_000_000_000L;
    public static final long REACHABLE_NANOS = 30_000_000_000L;
    public static final long PROBE_NANOS = 3_000_000_000L;
    public static final int MAX_PENDING_REQUESTS = 4096;

    private final PacketPool pool;
    private final PortTable ports;
    private final NeighborTable neighbors;
    private final WorkerTimers timers;
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final ArpFlyweight arp = new ArpFlyweight();
    /** (port, ip) whose last request is under a second old; the value is the timer that ends the pause. */
    private final Long2LongHashMap pacing = new Long2LongHashMap(-1L);
    /** Learned (port, ip) to the time ARP last confirmed it, and to its ageing timer. */
    private final Long2LongHashMap confirmedAt = new Long2LongHashMap(Long.MIN_VALUE);
    private final Long2LongHashMap ageingTimer = new Long2LongHashMap(-1L);
    private final Long2LongHashMap probing = new Long2LongHashMap(0L);
    private final AtomicCounter expired;
    private final AtomicCounter probesSent;
    private final int pacingOwner;
    private final int ageingOwner;
    private StageGraph graph;
    private int interfaceOutput;

    public NeighborResolver(final PacketPool pool, final PortTable ports, final NeighborTable neighbors,
        final WorkerTimers timers, final DataplaneCounters counters)
    {
        this.pool = pool;
        this.ports = ports;
        this.neighbors = neighbors;
        this.timers = timers;
        this.expired = counters.event("neighbor-expired");
        this.probesSent = counters.event("neighbor-probes");
        this.pacingOwner = timers.register((key, now) -> pacing.remove(key));
        this.ageingOwner = timers.register(this::onAgeing);
    }

    /** Where generated requests go; set once the graph is assembled. */
    void attach(final StageGraph graph)
    {
        this.graph = graph;
        this.interfaceOutput = graph.index("interface-output");
    }

    private static long key(final int port, final int ip)
    {
        return (long)port << 32 | (ip & 0xFFFF_FFFFL);
    }

    /**
     * A packet for {@code target} out of {@code port} found no MAC: broadcast a request unless one went out less than
     * a second ago. The request inherits the packet's id and trace flag, so a trace shows it.
     */
    public void requestFor(final int h, final int port, final int target)
    {
        final long key = key(port, target);
        if (pacing.containsKey(key) || pacing.size() >= MAX_PENDING_REQUESTS)
        {
            return;
        }
        final long now = pool.timestampNanos(h);
        final int request = sendRequest(port, target, EthernetFlyweight.BROADCAST_MAC, now);
        if (request != PacketPool.NO_PACKET)
        {
            pacing.put(key, timers.schedule(pacingOwner, key, now + REQUEST_INTERVAL_NANOS));
            pool.packetId(request, pool.packetId(h));
            pool.traced(request, pool.traced(h));
        }
    }

    /** arp-input learned or confirmed {@code ip} on {@code port} (outcome of {@link NeighborTable#learn}). */
    public void onLearned(final int port, final int ip, final int outcome)
    {
        if (outcome != NeighborTable.LEARNED_NEW && outcome != NeighborTable.CONFIRMED)
        {
            return;
        }
        final long key = key(port, ip);
        confirmedAt.put(key, timers.nanos());
        probing.remove(key);
        if (!ageingTimer.containsKey(key))
        {
            ageingTimer.put(key, timers.schedule(ageingOwner, key, timers.nanos() + REACHABLE_NANOS));
        }
    }

    private void onAgeing(final long key, final long now)
    {
        ageingTimer.remove(key);
        final int port = (int)(key >>> 32);
        final int ip = (int)key;
        final long confirmed = confirmedAt.get(key);
        if (confirmed == Long.MIN_VALUE || neighbors.isStatic(port, ip) || neighbors.lookup(port, ip) ==
            NeighborTable.NO_MAC)
        {
            confirmedAt.remove(key);
            probing.remove(key);
            return;
        }
        if (now - confirmed < REACHABLE_NANOS)
        {
            ageingTimer.put(key, timers.schedule(ageingOwner, key, confirmed + REACHABLE_NANOS));
            return;
        }
        if (probing.get(key) == 0L)
        {
            probing.put(key, 1L);
            if (sendRequest(port, ip, neighbors.lookup(port, ip), now) != PacketPool.NO_PACKET)
            {
                probesSent.incrementRelease();
            }
            ageingTimer.put(key, timers.schedule(ageingOwner, key, now + PROBE_NANOS));
            return;
        }
        neighbors.expire(port, ip);
        confirmedAt.remove(key);
        probing.remove(key);
        expired.incrementRelease();
    }

    /** Forget ageing state of an entry the control plane removed or made static. */
    public void forget(final int port, final int ip)
    {
        final long key = key(port, ip);
        final long timer = ageingTimer.remove(key);
        if (timer != -1L)
        {
            timers.cancel(timer);
        }
        confirmedAt.remove(key);
        probing.remove(key);
    }

    /**
     * Announce that {@code address} is now at this port (a gratuitous ARP: a broadcast request whose sender and target
     * are the address), so hosts on the link update their caches at once (MetalLB does this when a VIP arrives).
     * The caller drains the graph.
     */
    public boolean announce(final int port, final int address)
    {
        return sendRequest(port, address, address, BROADCAST, timers.nanos()) != PacketPool.NO_PACKET;
    }

    private static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    /** Build an ARP request from the port's primary address and hand it to interface-output. */
    private int sendRequest(final int port, final int target, final long destinationMac, final long timestampNanos)
    {
        return sendRequest(port, ports.address(port), target, destinationMac, timestampNanos);
    }

    private int sendRequest(final int port, final int sender, final int target, final long destinationMac,
        final long timestampNanos)
    {
        final int request = pool.allocate();
        if (request == PacketPool.NO_PACKET)
        {
            return request;
        }
        final int start = pool.frameOffset(request);
        final int l3 = start + ethernet.wrap(pool.buffer(), start)
            .emit(destinationMac, ports.mac(port), ports.vlan(port), EthernetFlyweight.TYPE_ARP);
        arp.wrap(pool.buffer(), l3).ethernetIpv4(ArpFlyweight.OP_REQUEST)
            .senderMac(ports.mac(port)).senderIp(sender).targetMac(0).targetIp(target);
        pool.frameLength(request, l3 - start + ArpFlyweight.LENGTH);
        pool.l3Offset(request, l3);
        pool.inPort(request, port);
        pool.outPort(request, port);
        pool.timestampNanos(request, timestampNanos);
        pool.flags(request, PacketPool.FLAG_LOCAL_ORIGIN);
        graph.inject(request, interfaceOutput);
        return request;
    }
}
