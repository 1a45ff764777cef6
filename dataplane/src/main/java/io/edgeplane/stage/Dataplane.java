package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.NeighborConfig;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.lb.Maglev;
import io.edgeplane.lb.Services;
import io.edgeplane.nat.Nat;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.TxSink;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.RouteConfig;
import io.edgeplane.route.NeighborTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.trace.PacketTracer;
import io.edgeplane.trace.TraceRecords;
import io.edgeplane.timer.WorkerTimers;
import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * One worker's dataplane: pool, tables, clock and timers, and the stage graph, assembled from a config. Ports call
 * {@link #receive} per frame (it copies the frame into a pool slot, as a NIC would DMA it) and {@link #flush} when
 * their burst ends; full vectors are processed as they fill. The worker calls {@link #tick} in its duty cycle so
 * timers fire without traffic. Features (NAT, services, tunnels) are feature stages handed in at construction:
 * the core graph does not know them. Owned by one thread.
 */
public final class Dataplane
{
    public static final int DEFAULT_POOL_SLOTS = 4096;
    public static final int NEIGHBOR_CAPACITY = 65536;
    public static final int TRACE_CAPACITY = 1 << 16;
    public static final int MAX_ROUTES = 2_000_000;
    public static final int MAX_TBL8_BLOCKS = 1 << 16;
    public static final int ICMP_ERRORS_PER_SECOND = 1000;
    public static final int ICMP_ERROR_BURST = 50;
    public static final int ECHO_REPLIES_PER_SECOND = 10_000;
    public static final int ECHO_REPLY_BURST = 1000;

    private final PacketPool pool;
    private final PortTable ports;
    private final NeighborTable neighbors;
    private final NeighborResolver resolver;
    private final RoutingTable routes;
    private final DataplaneCounters counters;
    private final PacketTracer tracer;
    private final WorkerTimers timers = new WorkerTimers();
    private final StageGraph graph;
    private final Nat nat;
    private final Services services;
    private final PacketBatch rx = new PacketBatch();
    private final int worker;
    private final int workers;
    private final Handoff handoff;
    private final FlowDispatch dispatch;
    private final org.agrona.concurrent.MessageHandler handoffHandler;
    private org.agrona.concurrent.status.AtomicCounter handedOut;
    private org.agrona.concurrent.status.AtomicCounter handedIn;
    private org.agrona.concurrent.status.AtomicCounter handoffFull;
    private boolean peerLearned;

    /**
     * Where a dataplane sits among several workers: its index, how many there are, the first worker (whose NAT and
     * services it shares and whose feature arcs it mirrors; null for the first), the rings between workers, and the
     * multiplier of the source-address spread ({@link FlowDispatch#spread}).
     */
    public record WorkerContext(int index, int count, Dataplane first, Handoff handoff, int multiplier)
    {
        public static final WorkerContext SINGLE = new WorkerContext(0, 1, null, null, 1);
    }
    private final long[] rxPackets;
    private final long[] rxBytes;

    /** Creates a feature stage for this dataplane's pool, counters and tracer. */
    @FunctionalInterface
    public interface Feature
    {
        FeatureStage create(PacketPool pool, DataplaneCounters counters, PacketTracer tracer);
    }

    /** A single-worker dataplane with its own port and routing tables. */
    public Dataplane(final DataplaneConfig config, final PacketPool pool, final TxSink txSink, final DropSink dropSink)
        throws ConfigException
    {
        this(config, pool, new PortTable(config.ports()), null, txSink, dropSink);
    }

    public Dataplane(final DataplaneConfig config, final PacketPool pool, final PortTable ports,
        final RoutingTable routes, final TxSink txSink, final DropSink dropSink) throws ConfigException
    {
        this(config, pool, ports, routes, txSink, dropSink, List.of());
    }

    /**
     * A worker sharing port and routing tables with others (and with the control plane).
     *
     * @param routes   the routing table, or null to build one from the config's routes.
     * @param features feature stages to register on their arcs (enabled per port through {@link #arc}).
     */
    public Dataplane(final DataplaneConfig config, final PacketPool pool, final PortTable ports,
        final RoutingTable routes, final TxSink txSink, final DropSink dropSink, final List<Feature> features)
        throws ConfigException
    {
        this(config, pool, ports, routes, txSink, dropSink, features, WorkerContext.SINGLE);
    }

    /**
     * One of several workers. The first builds NAT and services from the config; the others share them (each
     * still has its own connection table) and mirror the first one's feature arcs; all share ports and routes.
     */
    public Dataplane(final DataplaneConfig config, final PacketPool pool, final PortTable ports,
        final RoutingTable routes, final TxSink txSink, final DropSink dropSink, final List<Feature> features,
        final WorkerContext context) throws ConfigException
    {
        final Dataplane first = context.first();
        this.worker = context.index();
        this.workers = context.count();
        this.handoff = context.handoff();
        this.pool = pool;
        this.ports = ports;
        this.routes = routes != null ? routes : routingTable(config, ports);
        this.neighbors = new NeighborTable(NEIGHBOR_CAPACITY);
        for (final NeighborConfig neighbor : config.neighbors())
        {
            neighbors.addStatic(ports.indexOf(neighbor.interfaceName()), neighbor.address(), neighbor.mac(),
                neighbor.vtep());
        }
        this.counters = new DataplaneCounters(ports.names());
        this.rxPackets = new long[PortTable.CAPACITY];
        this.rxBytes = new long[PortTable.CAPACITY];
        this.tracer = new PacketTracer(TRACE_CAPACITY);
        this.resolver = new NeighborResolver(pool, ports, neighbors, timers, counters);
        final DropRecorder drops = new DropRecorder(pool, counters, dropSink);
        final EthernetInputStage ethernetInput = new EthernetInputStage(pool, counters, tracer, ports);
        final ArpInputStage arpInput = new ArpInputStage(pool, counters, tracer, ports, neighbors, resolver);
        // The tunnel stages are always in the graph (tunnels can be added at run time); until a tunnel exists no
        // adjacency names vxlan-encap and vxlan-decap is enabled on no port, so they cost nothing.
        // Constructed in this order so counter ids (and counters.json) keep a stable order.
        final StageGraph.Builder builder = StageGraph.builder(pool, counters)
            .arc(FeatureArc.ip4Unicast())
            .arc(FeatureArc.ip4Output())
            .stage(ethernetInput)
            .stage(arpInput)
            .stage(new Ip4InputStage(pool, counters, tracer, ports, config.flowHashSeed()))
            .stage(new Ip4LocalStage(pool, counters, tracer, ECHO_REPLIES_PER_SECOND, ECHO_REPLY_BURST))
            .stage(new Ip4LookupStage(pool, counters, tracer, this.routes, ports, Ip4RewriteStage.NAME,
                VxlanEncapStage.NAME))
            .stage(new Ip4RewriteStage(pool, counters, tracer, ports, neighbors, resolver))
            .stage(new IcmpErrorStage(pool, counters, tracer, ports, drops, ICMP_ERRORS_PER_SECOND,
                ICMP_ERROR_BURST))
            .stage(new InterfaceOutputStage(pool, counters, tracer, ports, txSink))
            .stage(new ErrorDropStage(pool, counters, tracer, drops));
        boolean rpFilter = false;
        for (int port = 0; port < ports.count(); port++)
        {
            rpFilter |= !"off".equals(ports.rpFilter(port));
        }
        if (rpFilter)
        {
            builder.feature(new ReversePathFilterStage(pool, counters, tracer, this.routes, ports));
        }
        builder.stage(new VxlanEncapStage(pool, counters, tracer, ports, neighbors));
        builder.feature(new VxlanDecapStage(pool, counters, tracer, ports));
        if (first == null)
        {
            this.nat = new Nat(ports, this.routes, config.flowHashSeed(), workers);
            this.services = new Services(ports, this.routes, Maglev.DEFAULT_SIZE);
            if (workers > 1)
            {
                services.indexBackends();
            }
        }
        else
        {
            this.nat = first.nat;
            this.services = first.services;
        }
        final NatStage natStage = new NatStage(pool, counters, tracer, nat, services, ports, this.routes, timers,
            worker);
        builder.feature(natStage);
        builder.stage(new NatFragmentHoldStage(pool, counters, tracer));
        for (final Feature feature : features)
        {
            builder.feature(feature.create(pool, counters, tracer));
        }
        this.graph = builder.build(EthernetInputStage.NAME);
        resolver.attach(graph);
        natStage.attach(graph);
        if (workers > 1)
        {
            dispatch = new FlowDispatch(worker, workers, context.multiplier(), nat, services, ports);
            handoffHandler = Handoff.handler(new Handoff.Receiver()
            {
                @Override
                public void frame(final int port, final DirectBuffer buffer, final int offset, final int length,
                    final long packetId, final long timestampNanos)
                {
                    handedIn.incrementRelease();
                    receiveHere(port, buffer, offset, length, packetId, timestampNanos);
                }

                @Override
                public void neighbor(final int port, final int ip, final long mac, final int vtep,
                    final boolean forUs)
                {
                    learnFromPeer(port, ip, mac, vtep, forUs);
                }
            });
            handedOut = counters.event("handoff-out");
            handedIn = counters.event("handoff-in");
            handoffFull = counters.event("handoff-ring-full");
            arpInput.peers((port, ip, mac, vtep, forUs) ->
            {
                if (!handoff.neighbor(worker, port, ip, mac, vtep, forUs))
                {
                    handoffFull.incrementRelease();
                }
            });
        }
        else
        {
            dispatch = null;
            handoffHandler = null;
        }
        if (first != null)
        {
            nat.attachWorker(worker, timers);
            first.arc(FeatureArc.IP4_UNICAST).mirror(graph.arc(FeatureArc.IP4_UNICAST));
            first.arc(FeatureArc.IP4_OUTPUT).mirror(graph.arc(FeatureArc.IP4_OUTPUT));
            return;
        }
        nat.attach(graph.arc(FeatureArc.IP4_UNICAST), NatStage.NAME, timers);
        if (config.nat() != null)
        {
            try
            {
                nat.configure(config.nat());
            }
            catch (final ConfigException ex)
            {
                throw ex.under("nat.");
            }
        }
        if (!config.services().isEmpty())
        {
            configureServices(config.serviceNetwork(), config.services());
        }
        for (int port = 0; port < ports.count(); port++)
        {
            if (!"off".equals(ports.rpFilter(port)))
            {
                graph.arc(FeatureArc.IP4_UNICAST).enable(ReversePathFilterStage.NAME, port, true);
            }
            if (ports.isTunnel(port))
            {
                graph.arc(FeatureArc.IP4_UNICAST).enable(VxlanDecapStage.NAME, ports.underlay(port), true);
            }
        }
    }
    /** The routing table for a config: connected routes from the ports plus the config's routes. */
    public static RoutingTable routingTable(final DataplaneConfig config, final PortTable ports)
        throws ConfigException
    {
        final RoutingTable table = new RoutingTable(ports, MAX_ROUTES, MAX_TBL8_BLOCKS);
        final List<Integer> portIndexes = new ArrayList<>();
        for (final RouteConfig route : config.routes())
        {
            portIndexes.add(ports.indexOf(route.interfaceName()));
        }
        try
        {
            table.addAll(config.routes(), portIndexes);
        }
        catch (final RouteException ex)
        {
            throw new ConfigException("routes: " + ex.getMessage());
        }
        return table;
    }

    /**
     * Copy one received frame into the pool and queue it; processes the vector when it is full.
     *
     * @return null when accepted, otherwise the reason it was dropped at receive (already counted).
     */
    public DropReason receive(final int port, final DirectBuffer frame, final int offset, final int length,
        final long packetId, final long timestampNanos)
    {
        if (dispatch != null)
        {
            final int owner = dispatch.owner(frame, offset, length);
            if (owner >= 0 && owner != worker)
            {
                handOff(owner, port, frame, offset, length, packetId, timestampNanos);
                return null;
            }
        }
        return receiveHere(port, frame, offset, length, packetId, timestampNanos);
    }

    private DropReason receiveHere(final int port, final DirectBuffer frame, final int offset, final int length,
        final long packetId, final long timestampNanos)
    {
        if (length > pool.maxFrameLength())
        {
            countRx(port, length);
            counters.drop(DropReason.RX_OVERSIZE).incrementRelease();
            return DropReason.RX_OVERSIZE;
        }
        final int h = pool.allocate();
        if (h == PacketPool.NO_PACKET)
        {
            countRx(port, length);
            counters.drop(DropReason.RX_NO_BUFFER).incrementRelease();
            return DropReason.RX_NO_BUFFER;
        }
        pool.buffer().putBytes(pool.frameOffset(h), frame, offset, length);
        enqueue(port, h, length, packetId, timestampNanos);
        return null;
    }

    /**
     * Queue a frame a port already wrote into pool slot {@code h} (freshly allocated, frame at its default offset):
     * the zero-copy receive path. A {@code length} beyond the slot means the port had to truncate the frame: it is
     * counted as {@code rx-oversize} and the slot freed.
     */
    public void receiveSlot(final int port, final int h, final int length, final long packetId,
        final long timestampNanos)
    {
        if (dispatch != null && length <= pool.maxFrameLength())
        {
            final int owner = dispatch.owner(pool.buffer(), pool.frameOffset(h), length);
            if (owner >= 0 && owner != worker)
            {
                handOff(owner, port, pool.buffer(), pool.frameOffset(h), length, packetId, timestampNanos);
                pool.free(h);
                return;
            }
        }
        enqueue(port, h, length, packetId, timestampNanos);
    }

    /** Queue a frame this worker processes (owned here, or handed to us: never dispatched twice). */
    private void enqueue(final int port, final int h, final int length, final long packetId,
        final long timestampNanos)
    {
        countRx(port, length);
        if (length > pool.maxFrameLength())
        {
            counters.drop(DropReason.RX_OVERSIZE).incrementRelease();
            pool.free(h);
            return;
        }
        pool.frameLength(h, length);
        pool.inPort(h, port);
        pool.packetId(h, packetId);
        pool.timestampNanos(h, timestampNanos);
        timers.advanceTo(timestampNanos);
        tracer.onReceive(pool, h);
        rx.add(h);
        if (rx.isFull())
        {
            processReceived();
        }
    }

    /** A frame whose flow another worker owns goes to it (counted there as received); a full ring drops it. */
    private void handOff(final int owner, final int port, final DirectBuffer frame, final int offset,
        final int length, final long packetId, final long timestampNanos)
    {
        if (handoff.frame(worker, owner, port, frame, offset, length, packetId, timestampNanos))
        {
            handedOut.incrementRelease();
        }
        else
        {
            countRx(port, length);
            handoffFull.incrementRelease();
        }
    }

    /** Another worker heard this ARP sender: learn it as that worker would have (ours is a separate cache). */
    private void learnFromPeer(final int port, final int ip, final long mac, final int vtep, final boolean forUs)
    {
        if (port >= ports.count() || !forUs && neighbors.lookup(port, ip) == NeighborTable.NO_MAC)
        {
            return;
        }
        final int outcome = ports.isTunnel(port) ? neighbors.learn(port, ip, mac, vtep) : neighbors.learn(port, ip, mac);
        resolver.onLearned(port, ip, outcome);
        peerLearned = true;
    }

    /**
     * Take what other workers handed us (frames of flows we own, neighbors they learned), at most {@code limit}
     * messages from each; the frames join the receive vector like any others.
     *
     * @return the number of messages taken.
     */
    public int drainHandoff(final int limit)
    {
        if (handoff == null)
        {
            return 0;
        }
        final int taken = handoff.drain(worker, handoffHandler, limit);
        if (peerLearned)
        {
            peerLearned = false;
            graph.drain(); // packets the resolver held for those neighbors go out now
        }
        return taken;
    }

    public int worker()
    {
        return worker;
    }

    /** Move this worker's clock (timers fire at its next vector or tick). */
    public void advanceClock(final long nowNanos)
    {
        timers.advanceTo(nowNanos);
    }

    public int workers()
    {
        return workers;
    }

    /** This worker's connection table (NAT and services), or null before either was configured. */
    public io.edgeplane.session.SessionTable sessions()
    {
        return nat.table(worker);
    }

    /** Gratuitous ARP for LoadBalancer VIPs that arrived on a port (MetalLB's L2 announcement). */
    private int announceVips()
    {
        int announced = 0;
        for (long next = services.pollAnnouncement(); next != -1L; next = services.pollAnnouncement())
        {
            if (resolver.announce((int)(next >>> 32), (int)next))
            {
                announced++;
            }
        }
        return announced;
    }

    /** Plain per-port sums; published to the shared counters once per vector, not once per packet. */
    private void countRx(final int port, final int length)
    {
        rxPackets[port]++;
        rxBytes[port] += length;
    }

    private void processReceived()
    {
        for (int port = 0, n = ports.count(); port < n; port++)
        {
            if (rxPackets[port] != 0)
            {
                counters.rxPackets(port).getAndAddRelease(rxPackets[port]);
                counters.rxBytes(port).getAndAddRelease(rxBytes[port]);
                rxPackets[port] = 0;
                rxBytes[port] = 0;
            }
        }
        timers.poll();
        announceVips();
        if (rx.count() > 0)
        {
            graph.process(rx);
        }
        else
        {
            graph.drain();
        }
    }

    /**
     * The worker's clock moved (live: the monotonic clock, every duty cycle): fire due timers and send what they
     * generated (neighbor probes).
     *
     * @return the number of timers fired.
     */
    public int tick(final long nowNanos)
    {
        timers.advanceTo(nowNanos);
        final int fired = timers.poll() + announceVips();
        if (fired > 0)
        {
            graph.drain();
        }
        return fired;
    }

    /**
     * A port could not send {@code packets} frames ({@code bytes} in all) that interface-output counted as
     * transmitted: they come off the port's tx counters (the port counts them as errors). Worker thread.
     */
    public void txFailed(final int port, final long packets, final long bytes)
    {
        counters.txPackets(port).getAndAddRelease(-packets);
        counters.txBytes(port).getAndAddRelease(-bytes);
    }

    /** Process whatever was received and not yet processed. */
    public void flush()
    {
        processReceived();
    }

    public PacketPool pool()
    {
        return pool;
    }

    public PortTable ports()
    {
        return ports;
    }

    public RoutingTable routes()
    {
        return routes;
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

    public StageGraph graph()
    {
        return graph;
    }

    /** A feature arc, to enable features per port (control thread). */
    public FeatureArc arc(final String name)
    {
        return graph.arc(name);
    }

    /**
     * Replace the service set (control thread; {@code services} already checked and allocated, e.g. by
     * {@link io.edgeplane.config.ConfigLoader#allocateServices}).
     */
    public void configureServices(final io.edgeplane.config.ServiceNetworkConfig network,
        final List<io.edgeplane.config.ServiceConfig> list) throws ConfigException
    {
        services.configure(network, list);
        nat.servicesActive(!list.isEmpty());
    }

    public Services services()
    {
        return services;
    }

    /** Masquerade: settings (control plane) and the session table (worker). */
    public Nat nat()
    {
        return nat;
    }

    public WorkerTimers timers()
    {
        return timers;
    }

    public NeighborResolver resolver()
    {
        return resolver;
    }

    /** Copy the trace records (call on the worker); format them anywhere with {@link #formatTrace(TraceRecords)}. */
    public TraceRecords traceRecords()
    {
        return tracer.snapshot();
    }

    public String formatTrace(final TraceRecords records)
    {
        return records.format(graph);
    }

    /** Format the trace here (single-threaded users: replay, tests). */
    public String formatTrace()
    {
        return formatTrace(traceRecords());
    }
}
