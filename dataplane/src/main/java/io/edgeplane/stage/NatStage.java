package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.lb.ServiceTable;
import io.edgeplane.lb.Services;
import io.edgeplane.nat.Nat;
import io.edgeplane.port.PortTable;
import io.edgeplane.nat.NatSettings;
import io.edgeplane.proto.Checksum;
import io.edgeplane.proto.IcmpFlyweight;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.proto.NetworkOrder;
import io.edgeplane.proto.TcpFlyweight;
import io.edgeplane.route.FibTables;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.session.SessionTable;
import io.edgeplane.timer.WorkerTimers;
import io.edgeplane.trace.PacketTracer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Masquerade with connection tracking, a feature on ip4-unicast of the inside ports and the outside port (VPP's
 * NAT44-ED runs there too: translating before the lookup routes the translated packet, and one lookup of the
 * session table serves both directions).
 * <ul>
 *   <li>A packet of a known session (either direction) is translated: source and destination become the other
 *       direction's tuple reversed; TCP flags move the session's state; its last-seen time is stamped.</li>
 *   <li>A new flow from an inside port that the FIB sends out of the outside port gets a session on its inside
 *       endpoint's mapping (endpoint-independent mapping, RFC 4787 REQ-1; created with a free outside port when it
 *       is the endpoint's first flow).</li>
 *   <li>A new flow from an inside port to an outside address and mapped port is hairpinned (REQ-9): the
 *       destination becomes the inside endpoint of that mapping, the source the sender's own mapping.</li>
 *   <li>New traffic on the outside port to an outside address: with endpoint-independent filtering a mapped port
 *       accepts any remote endpoint (a session is made); otherwise, and for unmapped ports, it is dropped
 *       ({@code nat-no-session}) without an answer (RFC 5382 REQ-4). Echo requests pass on: the gateway answers
 *       ping on its addresses.</li>
 *   <li>ICMP errors (unreachable, time exceeded, parameter problem) about a session's packet are translated back
 *       (RFC 5508): outer destination, embedded source and destination, and the outer IP, ICMP, embedded IP and
 *       embedded L4 checksums, all updated incrementally (RFC 1624). They never end a session.</li>
 *   <li>Non-first fragments take the translation of their datagram's first fragment; one that comes before it is
 *       held (a few, for two seconds) and sent on translated when it comes.</li>
 * </ul>
 * A packet that is translated and would expire here (TTL 1) is answered with time exceeded before translation,
 * so the error quotes what the sender sent. Other protocols pass untranslated.
 */
public final class NatStage extends FeatureStage
{
    public static final String NAME = "nat";
    /** After VXLAN decapsulation (an inner packet enters the arc again on its tunnel port). */
    public static final int ORDER = 30;

    static final int TRACE_OUT = 1;
    static final int TRACE_IN = 2;
    static final int TRACE_HAIRPIN = 3;
    static final int TRACE_ICMP_ERROR = 4;
    static final int TRACE_FRAGMENT = 5;
    static final int TRACE_HELD = 6;
    static final int TRACE_LB = 7;
    static final int TRACE_RESET = 8;

    private final Nat nat;
    private final Services services;
    private final PortTable portTable;
    private ServiceTable serviceTable = ServiceTable.EMPTY;
    private final RoutingTable routes;
    private final WorkerTimers timers;
    private final Ipv4Flyweight ip = new Ipv4Flyweight();
    private final Ipv4Flyweight inner = new Ipv4Flyweight();
    private final TcpFlyweight tcp = new TcpFlyweight();
    private final AtomicCounter backendGoneResets;
    private int icmpError;
    private NatSettings appliedSettings;
    private boolean hairpinned;
    /**
     * ClientIP affinity, per worker: a direct-mapped cache of (service, client) -> backend and when the client last
     * opened a flow. A newer client can take an older one's slot (its next flow then goes where Maglev says).
     */
    public static final int AFFINITY_SLOTS = 1 << 16;
    private final long[] affinityKeys = new long[AFFINITY_SLOTS];
    private final int[] affinityBackends = new int[AFFINITY_SLOTS];
    private final long[] affinitySeen = new long[AFFINITY_SLOTS];
    /** The frontend a flow just created was balanced by, or -1. */
    private int balanced = -1;

    /** Out-of-order fragments held at once, per worker; more are dropped ({@code nat-fragment-unknown}). */
    public static final int HOLD_CAPACITY = 64;
    /** How long a fragment waits for its datagram's first fragment (then {@code nat-fragment-timeout}). */
    public static final long HOLD_NANOS = 2_000_000_000L;
    private final Ipv4Flyweight fragmentIp = new Ipv4Flyweight();
    private final int[] heldHandles = new int[HOLD_CAPACITY];
    private final long[] heldAddresses = new long[HOLD_CAPACITY];
    private final int[] heldIds = new int[HOLD_CAPACITY];
    private final long[] heldTimers = new long[HOLD_CAPACITY];
    /** Held during the vector being processed: still in this stage's input, so released by setting its next. */
    private final boolean[] heldNow = new boolean[HOLD_CAPACITY];
    private final int holdTimerOwner;
    private StageGraph graph;
    private int holdStage;
    private int errorDropStage;

    private final int worker;

    public NatStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer, final Nat nat,
        final Services services, final PortTable ports, final RoutingTable routes, final WorkerTimers timers)
    {
        this(pool, counters, tracer, nat, services, ports, routes, timers, 0);
    }

    /** @param worker this worker's index: its session table and its slice of the port range. */
    public NatStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer, final Nat nat,
        final Services services, final PortTable ports, final RoutingTable routes, final WorkerTimers timers,
        final int worker)
    {
        super(NAME, FeatureArc.IP4_UNICAST, ORDER, pool, counters, tracer, IcmpErrorStage.NAME,
            NatFragmentHoldStage.NAME);
        this.worker = worker;
        this.nat = nat;
        this.services = services;
        this.portTable = ports;
        this.routes = routes;
        this.timers = timers;
        this.backendGoneResets = counters.event("lb-backend-gone-resets");
        java.util.Arrays.fill(heldHandles, -1);
        this.holdTimerOwner = timers.register(this::onHoldTimeout);
    }

    /** The graph this stage is in (it sends on released fragments and drops timed-out ones through it). */
    void attach(final StageGraph graph)
    {
        this.graph = graph;
        this.errorDropStage = graph.index(Stage.ERROR_DROP);
    }

    @Override
    protected void bind(final StageGraph.Binder binder)
    {
        super.bind(binder);
        icmpError = binder.next(IcmpErrorStage.NAME);
        holdStage = binder.next(NatFragmentHoldStage.NAME);
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        final NatSettings settings = nat.settings();
        final SessionTable table = nat.table(worker);
        final int n = batch.count();
        if (settings == null || table == null)
        {
            for (int i = 0; i < n; i++)
            {
                continueArc(batch.handle(i));
            }
            return;
        }
        if (settings != appliedSettings)
        {
            appliedSettings = settings;
            table.timeouts(settings.udpTimeoutNanos(), settings.tcpEstablishedTimeoutNanos(),
                settings.tcpTransitoryTimeoutNanos(), settings.icmpTimeoutNanos());
        }
        final FibTables fib = routes.tables();
        final long now = timers.nanos();
        serviceTable = services.table();
        // Pass 1: classify, parse the tuple and compute its home slot. Pass 2: load every home slot (independent
        // loads: their cache misses overlap). Pass 3: find each key, now cached, and load the sessions found.
        // Pass 4: decide and translate with everything at hand.
        for (int i = 0; i < n; i++)
        {
            classify(i, batch.handle(i), table);
        }
        long touched = 0;
        for (int i = 0; i < n; i++)
        {
            if (kinds[i] == KIND_SESSION)
            {
                touched += table.peek(slots[i]);
            }
        }
        for (int i = 0; i < n; i++)
        {
            if (kinds[i] == KIND_SESSION)
            {
                final int v = table.lookupAt(slots[i], protocols[i], sources[i], ports[i] >>> 16, destinations[i],
                    ports[i] & 0xFFFF);
                found[i] = v;
                if (v >= 0)
                {
                    touched += table.peekSession(v >>> 1);
                }
            }
        }
        sink = touched;
        mutated = false;
        java.util.Arrays.fill(heldNow, false);
        for (int i = 0; i < n; i++)
        {
            final int h = batch.handle(i);
            switch (kinds[i])
            {
                case KIND_SESSION -> handle(h, i, settings, table, fib, now);
                case KIND_FRAGMENT ->
                {
                    ip.wrap(buffer, pool.l3Offset(h));
                    fragment(h, settings, table, fib, now, protocols[i], sources[i], destinations[i],
                        pool.inPort(h));
                }
                case KIND_ICMP_ERROR ->
                {
                    final int l3 = pool.l3Offset(h);
                    ip.wrap(buffer, l3);
                    icmpError(h, settings, table, l3, pool.l4Offset(h), sources[i], destinations[i],
                        pool.inPort(h));
                }
                default -> continueArc(h);
            }
        }
    }

    private static final int KIND_PASS = 0;
    private static final int KIND_SESSION = 1;
    private static final int KIND_FRAGMENT = 2;
    private static final int KIND_ICMP_ERROR = 3;

    private final int[] kinds = new int[StageGraph.INPUT_CAPACITY];
    private final int[] protocols = new int[StageGraph.INPUT_CAPACITY];
    private final int[] sources = new int[StageGraph.INPUT_CAPACITY];
    private final int[] destinations = new int[StageGraph.INPUT_CAPACITY];
    private final int[] ports = new int[StageGraph.INPUT_CAPACITY];
    private final int[] icmpTypes = new int[StageGraph.INPUT_CAPACITY];
    private final int[] slots = new int[StageGraph.INPUT_CAPACITY];
    private final int[] found = new int[StageGraph.INPUT_CAPACITY];
    /** Keeps the loads of passes 2 and 3. */
    long sink;
    /** A session was made or removed in this vector: lookups done before it may be stale. */
    private boolean mutated;

    private void classify(final int i, final int h, final SessionTable table)
    {
        final int l3 = pool.l3Offset(h);
        ip.wrap(buffer, l3);
        // TTL, protocol, checksum and source in one load.
        final long ttlToSource = buffer.getLong(l3 + Ipv4Flyweight.TTL_OFFSET, NetworkOrder.NETWORK_ORDER);
        final int protocol = (int)(ttlToSource >>> 48) & 0xFF;
        protocols[i] = protocol;
        sources[i] = (int)ttlToSource;
        destinations[i] = ip.destination();
        if (protocol != Ipv4Flyweight.PROTOCOL_TCP && protocol != Ipv4Flyweight.PROTOCOL_UDP &&
            protocol != Ipv4Flyweight.PROTOCOL_ICMP)
        {
            kinds[i] = KIND_PASS;
            return;
        }
        if (ip.isNonFirstFragment())
        {
            kinds[i] = KIND_FRAGMENT;
            return;
        }
        final int l4 = pool.l4Offset(h);
        int icmpType = -1;
        final int sourcePort;
        final int destinationPort;
        if (protocol == Ipv4Flyweight.PROTOCOL_ICMP)
        {
            icmpType = buffer.getByte(l4) & 0xFF;
            final int id = u16(l4 + IcmpFlyweight.IDENTIFIER_OFFSET);
            if (icmpType == IcmpFlyweight.TYPE_ECHO_REQUEST)
            {
                sourcePort = id;
                destinationPort = 0;
            }
            else if (icmpType == IcmpFlyweight.TYPE_ECHO_REPLY)
            {
                sourcePort = 0;
                destinationPort = id;
            }
            else
            {
                kinds[i] = icmpType == IcmpFlyweight.TYPE_DESTINATION_UNREACHABLE ||
                    icmpType == IcmpFlyweight.TYPE_TIME_EXCEEDED || icmpType == TYPE_PARAMETER_PROBLEM ?
                    KIND_ICMP_ERROR : KIND_PASS;
                return;
            }
        }
        else
        {
            final int both = buffer.getInt(l4, NetworkOrder.NETWORK_ORDER);
            sourcePort = both >>> 16;
            destinationPort = both & 0xFFFF;
        }
        kinds[i] = KIND_SESSION;
        icmpTypes[i] = icmpType;
        ports[i] = sourcePort << 16 | destinationPort;
        slots[i] = table.slot(protocol, sources[i], sourcePort, destinations[i], destinationPort);
    }

    private void handle(final int h, final int i, final NatSettings settings, final SessionTable table,
        final FibTables fib, final long now)
    {
        final int l3 = pool.l3Offset(h);
        ip.wrap(buffer, l3);
        final int protocol = protocols[i];
        final int source = sources[i];
        final int destination = destinations[i];
        final int in = pool.inPort(h);
        final int l4 = pool.l4Offset(h);
        final int icmpType = icmpTypes[i];
        final int sourcePort = ports[i] >>> 16;
        final int destinationPort = ports[i] & 0xFFFF;
        int v = found[i];
        if (mutated && (v < 0 || !table.still(v, protocol, source, sourcePort, destination, destinationPort)))
        {
            v = table.lookup(protocol, source, sourcePort, destination, destinationPort);
        }
        int kind = TRACE_OUT;
        if (v >= 0)
        {
            final int service = table.service(v >>> 1);
            if (service != 0 && serviceTable.generation() != table.serviceVersion(v >>> 1))
            {
                // The service's backends changed since this flow chose one: keep it on its backend while that one
                // is still listed (ready, or not ready but still serving: a terminating pod finishes its flows);
                // otherwise the flow ends, or starts over on a live one (no stale session black-holes it).
                if (!serviceTable.isListed(service - 1, table.source(v >>> 1, SessionTable.REPLY)))
                {
                    if ((v & 1) == SessionTable.REPLY)
                    {
                        backendGone(h, table, v >>> 1, protocol, l3, l4, source, sourcePort);
                        return;
                    }
                    table.delete(v >>> 1);
                    mutated = true;
                    v = SessionTable.NONE;
                    if (protocol == Ipv4Flyweight.PROTOCOL_TCP &&
                        serviceTable.lookup(protocol, destination, destinationPort) < 0)
                    {
                        // The service itself went: its connections end as with no backend left (icmp-error answers
                        // a segment with a reset).
                        dropVia(h, DropReason.LB_NO_BACKEND, icmpError);
                        trace(h, 0, 0, 0, 0);
                        return;
                    }
                }
                else
                {
                    table.service(v >>> 1, service, serviceTable.generation());
                }
            }
        }
        if (v >= 0 && (v & 1) == SessionTable.ORIGINAL)
        {
            final int owner = table.owner(v >>> 1);
            if (owner >= 0 && owner != settings.outside())
            {
                // The outside port moved (default route change): the flow is mapped again on the new one.
                table.delete(v >>> 1);
                mutated = true;
                v = SessionTable.NONE;
            }
        }
        if (v < 0)
        {
            v = create(h, settings, table, fib, now, protocol, source, sourcePort, destination, destinationPort, in,
                icmpType);
            if (v < 0)
            {
                return;
            }
            mutated = true;
            kind = balanced >= 0 ? TRACE_LB : hairpinned ? TRACE_HAIRPIN : TRACE_OUT;
        }
        final int s = v >>> 1;
        final int direction = v & 1;
        if (direction == SessionTable.REPLY)
        {
            kind = TRACE_IN;
        }
        if (ip.ttl() <= 1)
        {
            dropVia(h, DropReason.IP4_TTL_EXPIRED, icmpError);
            trace(h, 0, 0, 0, 0);
            return;
        }
        if (protocol == Ipv4Flyweight.PROTOCOL_TCP)
        {
            table.tcpFlags(s, direction, buffer.getByte(l4 + 13));
        }
        table.touch(s, now);
        if (ip.isFragment())
        {
            table.rememberFragments(source, destination, protocol, ip.identification(), s, direction, now);
            release(table, s, direction, source, destination, protocol, ip.identification());
        }
        translate(table, s, direction, protocol, l3, l4, icmpType);
        continueArc(h);
        if (pool.traced(h))
        {
            if (kind == TRACE_LB)
            {
                final int service = serviceTable.service(balanced);
                final int backend = table.source(s, SessionTable.REPLY);
                trace(h, destination, backend, balanced, TRACE_LB | (serviceTable.backendIndex(service, backend) + 1)
                    << 8 | Math.min(serviceTable.backendCount(service), 4095) << 20);
            }
            else
            {
                traceTranslation(h, table, s, direction, kind, source, sourcePort, destination, destinationPort);
            }
        }
    }

    private static final int TYPE_PARAMETER_PROBLEM = 12;

    /**
     * A packet from a backend that left its service, of a flow that chose it: the flow ends here, and its client is
     * told rather than left waiting on a connection nobody serves any more (a client that only receives sends
     * nothing that would find out). A TCP segment becomes a reset for the client, from the frontend, at the segment's
     * own sequence number (the next the client expects, so its stack accepts it; one a little ahead gets a challenge
     * ACK, RFC 5961, which a live backend answers with a reset), one more for an empty one (a window probe).
     * Anything else is dropped ({@code lb-backend-gone}). The session goes either way; the backend's later packets
     * find none.
     */
    private void backendGone(final int h, final SessionTable table, final int s, final int protocol, final int l3,
        final int l4, final int source, final int sourcePort)
    {
        final int ihl = ip.headerLength();
        if (protocol != Ipv4Flyweight.PROTOCOL_TCP || ip.isFragment() || ip.ttl() <= 1 ||
            ip.totalLength() < ihl + TcpFlyweight.MIN_HEADER_LENGTH)
        {
            table.delete(s);
            mutated = true;
            drop(h, DropReason.LB_BACKEND_GONE);
            trace(h, 0, 0, 0, 0);
            return;
        }
        translate(table, s, SessionTable.REPLY, protocol, l3, l4, 0);
        table.delete(s);
        mutated = true;
        tcp.wrap(buffer, l4);
        final int flags = tcp.flags();
        final int payload = ip.totalLength() - ihl - tcp.dataOffset() * 4;
        if (payload <= 0 && (flags & (TcpFlyweight.FLAG_SYN | TcpFlyweight.FLAG_FIN | TcpFlyweight.FLAG_RST)) == 0)
        {
            // An empty segment is an ACK (at the next sequence number) or, from a backend the client's zero window
            // stalled, a window probe or keepalive, one below it: they are what such a backend still sends, so the
            // reset goes where the probe's sequence number says the client's next expected one is. After an ACK
            // it is one ahead, in the window: the client answers with a challenge ACK, which a live backend resets.
            final int at = l4 + TcpFlyweight.SEQUENCE_OFFSET;
            final int sequence = buffer.getInt(at, NetworkOrder.NETWORK_ORDER);
            buffer.putInt(at, sequence + 1, NetworkOrder.NETWORK_ORDER);
        }
        tcp.bareHeader(TcpFlyweight.FLAG_RST | flags & TcpFlyweight.FLAG_ACK);
        ip.totalLength(ihl + TcpFlyweight.MIN_HEADER_LENGTH).updateHeaderChecksum();
        tcp.updateChecksum(ip.source(), ip.destination(), TcpFlyweight.MIN_HEADER_LENGTH);
        pool.frameLength(h, l3 - pool.frameOffset(h) + ihl + TcpFlyweight.MIN_HEADER_LENGTH);
        backendGoneResets.incrementRelease();
        continueArc(h);
        trace(h, source, ip.destination(), sourcePort << 16 | u16(l4 + TcpFlyweight.DESTINATION_PORT_OFFSET),
            TRACE_RESET);
    }

    /** This worker's slice of the port range: a reply's destination port names the worker that owns its session. */
    private int portLow(final NatSettings settings)
    {
        return Nat.sliceLow(settings.portLow(), settings.portHigh(), worker, nat.workers());
    }

    private int portHigh(final NatSettings settings)
    {
        return Nat.sliceHigh(settings.portLow(), settings.portHigh(), worker, nat.workers());
    }

    private int u16(final int at)
    {
        return buffer.getShort(at, NetworkOrder.NETWORK_ORDER) & 0xFFFF;
    }

    private void u16(final int at, final int value)
    {
        buffer.putShort(at, (short)value, NetworkOrder.NETWORK_ORDER);
    }

    /**
     * A session for a packet that matched none, or a decision for it (then {@link SessionTable#NONE}).
     *
     * @return {@code session << 1 | direction}; {@link #hairpinned} tells whether the flow is hairpinned.
     */
    private int create(final int h, final NatSettings settings, final SessionTable table, final FibTables fib,
        final long now, final int protocol, final int source, final int sourcePort, final int destination,
        final int destinationPort, final int in, final int icmpType)
    {
        hairpinned = false;
        balanced = -1;
        if (protocol != Ipv4Flyweight.PROTOCOL_ICMP && !serviceTable.isEmpty())
        {
            final int frontend = serviceTable.lookup(protocol, destination, destinationPort);
            if (frontend >= 0)
            {
                return balance(h, settings, table, fib, now, frontend, protocol, source, sourcePort, destination,
                    destinationPort, in);
            }
        }
        if (settings.inside(in))
        {
            if (settings.isOutsideAddress(destination))
            {
                final int target = protocol == Ipv4Flyweight.PROTOCOL_ICMP ? SessionTable.NONE :
                    table.mappingByOutside(protocol, destination, destinationPort);
                if (target < 0)
                {
                    continueArc(h);
                    return SessionTable.NONE;
                }
                final int mine = mapping(h, settings, table, protocol, source, sourcePort);
                if (mine < 0)
                {
                    return SessionTable.NONE;
                }
                final int s = table.createSession(protocol, source, sourcePort, destination, destinationPort,
                    table.mappingInsideAddress(target), table.mappingInsidePort(target),
                    table.mappingOutsideAddress(mine), table.mappingOutsidePort(mine), mine, -1, now);
                hairpinned = true;
                return s << 1 | SessionTable.ORIGINAL;
            }
            final int outside = settings.outside();
            if (outside < 0 || egressPort(fib, destination, h) != outside)
            {
                continueArc(h);
                return SessionTable.NONE;
            }
            final int m = mapping(h, settings, table, protocol, source, sourcePort);
            if (m < 0)
            {
                return SessionTable.NONE;
            }
            final int s = table.createSession(protocol, source, sourcePort, destination, destinationPort,
                destination, destinationPort, table.mappingOutsideAddress(m), table.mappingOutsidePort(m), m,
                outside, now);
            return s << 1 | SessionTable.ORIGINAL;
        }
        if (in != settings.outside() || !settings.isOutsideAddress(destination))
        {
            continueArc(h);
            return SessionTable.NONE;
        }
        if (icmpType == IcmpFlyweight.TYPE_ECHO_REQUEST)
        {
            continueArc(h);
            return SessionTable.NONE;
        }
        final int m = settings.endpointIndependentFiltering() && protocol != Ipv4Flyweight.PROTOCOL_ICMP ?
            table.mappingByOutside(protocol, destination, destinationPort) : SessionTable.NONE;
        if (m < 0)
        {
            drop(h, DropReason.NAT_NO_SESSION);
            trace(h, 0, 0, 0, 0);
            return SessionTable.NONE;
        }
        if (table.size() >= nat.perWorker(settings.maxSessions()))
        {
            drop(h, DropReason.NAT_TABLE_FULL);
            trace(h, 0, 0, 0, 0);
            return SessionTable.NONE;
        }
        final int s = table.createSession(protocol, table.mappingInsideAddress(m), table.mappingInsidePort(m),
            source, sourcePort, source, sourcePort, destination, destinationPort, m, settings.outside(), now);
        return s << 1 | SessionTable.REPLY;
    }

    /**
     * A new flow to a service frontend: the source check of a ClusterIP, a refusal (ICMP port unreachable) when no
     * backend is ready, else the backend Maglev picks for the flow hash, the destination translated to it and its
     * target port, and the client's address kept, except when the backend is reached through the port the packet
     * came in on (a client on the backend's own switch, a pod reaching itself): then the source becomes the
     * gateway's address on that port too (kube-proxy's masquerade), so the reply comes back through the gateway.
     */
    private int balance(final int h, final NatSettings settings, final SessionTable table, final FibTables fib,
        final long now, final int frontend, final int protocol, final int source, final int sourcePort,
        final int destination, final int destinationPort, final int in)
    {
        final ServiceTable services = serviceTable;
        if (services.clusterOnly(frontend) && !services.clusterSource(source))
        {
            drop(h, DropReason.LB_CLUSTER_IP_SOURCE);
            trace(h, 0, 0, 0, 0);
            return SessionTable.NONE;
        }
        if (services.readyCount(frontend) == 0)
        {
            dropVia(h, DropReason.LB_NO_BACKEND, icmpError);
            trace(h, 0, 0, 0, 0);
            return SessionTable.NONE;
        }
        final int service = services.service(frontend);
        final long affinity = services.affinityNanos(frontend);
        int backend = 0;
        int affinitySlot = -1;
        if (affinity != 0)
        {
            // ClientIP affinity: the client's last backend while it is ready and the client came within the timeout.
            final long key = (long)service << 32 | source & 0xFFFF_FFFFL;
            long mixed = key * 0x9E37_79B9_7F4A_7C15L;
            mixed ^= mixed >>> 31;
            affinitySlot = (int)mixed & (AFFINITY_SLOTS - 1);
            if (affinityKeys[affinitySlot] == key && now - affinitySeen[affinitySlot] <= affinity &&
                services.backendIndex(service, affinityBackends[affinitySlot]) >= 0)
            {
                backend = affinityBackends[affinitySlot];
            }
            affinityKeys[affinitySlot] = key;
            affinitySeen[affinitySlot] = now;
        }
        if (backend == 0)
        {
            backend = services.backend(frontend, pool.flowHash(h));
        }
        if (affinitySlot >= 0)
        {
            affinityBackends[affinitySlot] = backend;
        }
        final int backendPort = services.targetPort(frontend);
        final boolean masquerade = egressPort(fib, backend, h) == in;
        int replyDestination = source;
        int replyDestinationPort = sourcePort;
        int m = -1;
        if (masquerade)
        {
            m = table.mappingByInside(protocol, source, sourcePort);
            if (m < 0)
            {
                m = table.createMapping(protocol, source, sourcePort, portTable.address(in), portLow(settings),
                    portHigh(settings));
            }
            if (m < 0)
            {
                drop(h, m == SessionTable.NO_PORT ? DropReason.NAT_PORTS_EXHAUSTED : DropReason.NAT_TABLE_FULL);
                trace(h, 0, 0, 0, 0);
                return SessionTable.NONE;
            }
            replyDestination = table.mappingOutsideAddress(m);
            replyDestinationPort = table.mappingOutsidePort(m);
        }
        if (table.lookup(protocol, backend, backendPort, replyDestination, replyDestinationPort) >= 0)
        {
            drop(h, DropReason.LB_TUPLE_CLASH);
            trace(h, 0, 0, 0, 0);
            return SessionTable.NONE;
        }
        final int s = table.size() >= nat.perWorker(settings.maxSessions()) ? SessionTable.FULL :
            table.createSession(protocol, source, sourcePort, destination, destinationPort, backend, backendPort,
                replyDestination, replyDestinationPort, m, -1, now);
        if (s < 0)
        {
            drop(h, DropReason.NAT_TABLE_FULL);
            trace(h, 0, 0, 0, 0);
            return SessionTable.NONE;
        }
        table.service(s, service + 1, services.generation());
        balanced = frontend;
        return s << 1 | SessionTable.ORIGINAL;
    }

    /** The port the FIB forwards {@code destination} out of for this packet's flow, or -1 (no route, local). */
    private int egressPort(final FibTables fib, final int destination, final int h)
    {
        final int group = fib.lookup(destination);
        return group == FibTables.NO_ROUTE || fib.kind(group) != FibTables.KIND_FORWARD ? -1 :
            fib.adjacencyPort(fib.adjacency(group, pool.flowHash(h)));
    }

    /** The inside endpoint's mapping, made if it has none; a refusal drops the packet and returns -1. */
    private int mapping(final int h, final NatSettings settings, final SessionTable table, final int protocol,
        final int address, final int port)
    {
        if (table.size() >= nat.perWorker(settings.maxSessions()))
        {
            drop(h, DropReason.NAT_TABLE_FULL);
            trace(h, 0, 0, 0, 0);
            return -1;
        }
        int m = table.mappingByInside(protocol, address, port);
        if (m < 0)
        {
            m = table.createMapping(protocol, address, port, settings.addressFor(address), portLow(settings),
                portHigh(settings));
            if (m < 0)
            {
                drop(h, m == SessionTable.NO_PORT ? DropReason.NAT_PORTS_EXHAUSTED : DropReason.NAT_TABLE_FULL);
                trace(h, 0, 0, 0, 0);
                return -1;
            }
        }
        return m;
    }

    /** Rewrite the packet of {@code direction} into the other direction's tuple, reversed. */
    private void translate(final SessionTable table, final int s, final int direction, final int protocol,
        final int l3, final int l4, final int icmpType)
    {
        final int other = direction ^ 1;
        // Source and destination are adjacent: one load and one store for both.
        final int pair = l3 + Ipv4Flyweight.SOURCE_OFFSET;
        final long oldAddresses = buffer.getLong(pair, NetworkOrder.NETWORK_ORDER);
        final int newSource = table.destination(s, other);
        final int newDestination = table.source(s, other);
        final long addresses = Checksum.delta32((int)(oldAddresses >>> 32), newSource) +
            Checksum.delta32((int)oldAddresses, newDestination);
        buffer.putLong(pair, (long)newSource << 32 | (newDestination & 0xFFFF_FFFFL), NetworkOrder.NETWORK_ORDER);
        ip.checksum(Checksum.apply(ip.checksum(), addresses));
        if (l4 == 0)
        {
            return;
        }
        if (protocol == Ipv4Flyweight.PROTOCOL_ICMP)
        {
            final int at = l4 + IcmpFlyweight.IDENTIFIER_OFFSET;
            final int oldId = u16(at);
            final int newId = icmpType == IcmpFlyweight.TYPE_ECHO_REQUEST ?
                table.destinationPort(s, other) : table.sourcePort(s, other);
            u16(at, newId);
            final int sum = l4 + IcmpFlyweight.CHECKSUM_OFFSET;
            u16(sum, Checksum.apply(u16(sum), Checksum.delta16(oldId, newId)));
            return;
        }
        final int oldPorts = buffer.getInt(l4, NetworkOrder.NETWORK_ORDER);
        final int oldSourcePort = oldPorts >>> 16;
        final int oldDestinationPort = oldPorts & 0xFFFF;
        final int newSourcePort = table.destinationPort(s, other);
        final int newDestinationPort = table.sourcePort(s, other);
        buffer.putInt(l4, newSourcePort << 16 | newDestinationPort, NetworkOrder.NETWORK_ORDER);
        // The pseudo-header's addresses and the ports, in one update of the L4 checksum.
        updateL4Checksum(l4, protocol == Ipv4Flyweight.PROTOCOL_TCP, addresses +
            Checksum.delta16(oldSourcePort, newSourcePort) + Checksum.delta16(oldDestinationPort, newDestinationPort));
    }

    /** Apply summed RFC 1624 terms to the TCP or UDP checksum of the header at {@code l4}; returns the new value. */
    private int updateL4Checksum(final int l4, final boolean tcp, final long terms)
    {
        final int at = l4 + (tcp ? 16 : 6);
        final int sum = tcp ? Checksum.apply(u16(at), terms) : Checksum.applyUdp(u16(at), terms);
        u16(at, sum);
        return sum;
    }

    /**
     * An ICMP error: the packet it quotes is one the gateway sent (translated); reversed, its tuple is a session's
     * tuple in the direction the error travels. The error goes back to that packet's original sender, quoting the
     * packet as that sender sent it (RFC 5508 §4).
     */
    private void icmpError(final int h, final NatSettings settings, final SessionTable table, final int l3,
        final int l4, final int source, final int destination, final int in)
    {
        final int end = l3 + ip.totalLength();
        final int quoted = l4 + IcmpFlyweight.HEADER_LENGTH;
        final boolean ours = in == settings.outside() && settings.isOutsideAddress(destination);
        int v = SessionTable.NONE;
        int innerL4 = 0;
        int innerProtocol = 0;
        int innerType = -1;
        if (end - quoted >= Ipv4Flyweight.MIN_HEADER_LENGTH + 8)
        {
            inner.wrap(buffer, quoted);
            innerL4 = quoted + inner.headerLength();
            innerProtocol = inner.protocol();
            if (inner.version() == 4 && inner.ihl() >= 5 && innerL4 + 8 <= end && !inner.isNonFirstFragment())
            {
                final int a = u16(innerL4);
                final int b = u16(innerL4 + 2);
                if (innerProtocol == Ipv4Flyweight.PROTOCOL_TCP || innerProtocol == Ipv4Flyweight.PROTOCOL_UDP)
                {
                    v = table.lookup(innerProtocol, inner.destination(), b, inner.source(), a);
                }
                else if (innerProtocol == Ipv4Flyweight.PROTOCOL_ICMP)
                {
                    innerType = a >>> 8;
                    final int id = u16(innerL4 + IcmpFlyweight.IDENTIFIER_OFFSET);
                    if (innerType == IcmpFlyweight.TYPE_ECHO_REQUEST)
                    {
                        v = table.lookup(innerProtocol, inner.destination(), 0, inner.source(), id);
                    }
                    else if (innerType == IcmpFlyweight.TYPE_ECHO_REPLY)
                    {
                        v = table.lookup(innerProtocol, inner.destination(), id, inner.source(), 0);
                    }
                }
            }
        }
        if (v < 0)
        {
            if (ours)
            {
                drop(h, DropReason.NAT_NO_SESSION);
            }
            else
            {
                continueArc(h);
            }
            trace(h, 0, 0, 0, 0);
            return;
        }
        final int s = v >>> 1;
        final int direction = v & 1;
        final int other = direction ^ 1;
        int icmpSum = u16(l4 + IcmpFlyweight.CHECKSUM_OFFSET);

        // The quoted packet becomes the other direction's tuple as its sender sent it.
        final int oldInnerSource = inner.source();
        final int oldInnerDestination = inner.destination();
        final int newInnerSource = table.source(s, other);
        final int newInnerDestination = table.destination(s, other);
        final int oldInnerSum = inner.checksum();
        final int newInnerSum = Checksum.adjust32(Checksum.adjust32(oldInnerSum, oldInnerSource, newInnerSource),
            oldInnerDestination, newInnerDestination);
        inner.source(newInnerSource).destination(newInnerDestination).checksum(newInnerSum);
        icmpSum = Checksum.adjust32(icmpSum, oldInnerSource, newInnerSource);
        icmpSum = Checksum.adjust32(icmpSum, oldInnerDestination, newInnerDestination);
        icmpSum = Checksum.adjust16(icmpSum, oldInnerSum, newInnerSum);
        if (innerProtocol == Ipv4Flyweight.PROTOCOL_ICMP)
        {
            final int at = innerL4 + IcmpFlyweight.IDENTIFIER_OFFSET;
            final int oldId = u16(at);
            final int newId = innerType == IcmpFlyweight.TYPE_ECHO_REQUEST ?
                table.sourcePort(s, other) : table.destinationPort(s, other);
            u16(at, newId);
            final int sumAt = innerL4 + IcmpFlyweight.CHECKSUM_OFFSET;
            final int oldSum = u16(sumAt);
            final int newSum = Checksum.adjust16(oldSum, oldId, newId);
            u16(sumAt, newSum);
            icmpSum = Checksum.adjust16(Checksum.adjust16(icmpSum, oldId, newId), oldSum, newSum);
        }
        else
        {
            final int oldSourcePort = u16(innerL4);
            final int oldDestinationPort = u16(innerL4 + 2);
            final int newSourcePort = table.sourcePort(s, other);
            final int newDestinationPort = table.destinationPort(s, other);
            u16(innerL4, newSourcePort);
            u16(innerL4 + 2, newDestinationPort);
            icmpSum = Checksum.adjust16(icmpSum, oldSourcePort, newSourcePort);
            icmpSum = Checksum.adjust16(icmpSum, oldDestinationPort, newDestinationPort);
            final boolean tcp = innerProtocol == Ipv4Flyweight.PROTOCOL_TCP;
            // The quoted L4 checksum, when the quote reaches it (UDP's always does, TCP's after 18 bytes).
            final int sumAt = innerL4 + (tcp ? 16 : 6);
            if (sumAt + 2 <= end)
            {
                final int oldSum = u16(sumAt);
                final int sum = updateL4Checksum(innerL4, tcp, Checksum.delta32(oldInnerSource, newInnerSource) +
                    Checksum.delta32(oldInnerDestination, newInnerDestination) +
                    Checksum.delta16(oldSourcePort, newSourcePort) +
                    Checksum.delta16(oldDestinationPort, newDestinationPort));
                icmpSum = Checksum.adjust16(icmpSum, oldSum, sum);
            }
        }
        u16(l4 + IcmpFlyweight.CHECKSUM_OFFSET, icmpSum);

        // The outer header goes to the original sender; from the far end itself, it comes from what it was for.
        final int newDestination = table.source(s, other);
        final int newSource = source == oldInnerDestination ? table.destination(s, other) : source;
        ip.checksum(Checksum.adjust32(Checksum.adjust32(ip.checksum(), source, newSource), destination,
            newDestination));
        ip.source(newSource).destination(newDestination);
        continueArc(h);
        trace(h, destination, newDestination, 0, TRACE_ICMP_ERROR);
    }

    /** A non-first fragment: its datagram's first fragment's translation, when that one was translated. */
    private void fragment(final int h, final NatSettings settings, final SessionTable table, final FibTables fib,
        final long now, final int protocol, final int source, final int destination, final int in)
    {
        final int v = table.fragmentSession(source, destination, protocol, ip.identification(), now);
        if (v >= 0)
        {
            final int s = v >>> 1;
            final int other = (v & 1) ^ 1;
            final int newSource = table.destination(s, other);
            final int newDestination = table.source(s, other);
            ip.checksum(Checksum.adjust32(Checksum.adjust32(ip.checksum(), source, newSource), destination,
                newDestination));
            ip.source(newSource).destination(newDestination);
            table.touch(s, now);
            continueArc(h);
            trace(h, source, newSource, 0, TRACE_FRAGMENT);
            return;
        }
        boolean translatable = in == settings.outside() && settings.isOutsideAddress(destination);
        if (!translatable && settings.inside(in) && settings.outside() >= 0)
        {
            translatable = settings.isOutsideAddress(destination) ||
                egressPort(fib, destination, h) == settings.outside();
        }
        if (!translatable)
        {
            continueArc(h);
            trace(h, 0, 0, 0, 0);
        }
        else if (!hold(h, source, destination, protocol, ip.identification(), now))
        {
            drop(h, DropReason.NAT_FRAGMENT_UNKNOWN);
            trace(h, 0, 0, 0, 0);
        }
        else
        {
            trace(h, source, destination, 0, TRACE_HELD);
        }
    }

    /**
     * Keep a fragment that came before its datagram's first fragment (out of order) until that one is translated,
     * for at most {@link #HOLD_NANOS}: it goes to the terminal hold stage, which keeps its slot.
     */
    private boolean hold(final int h, final int source, final int destination, final int protocol,
        final int identification, final long now)
    {
        for (int slot = 0; slot < HOLD_CAPACITY; slot++)
        {
            if (heldHandles[slot] < 0)
            {
                heldHandles[slot] = h;
                heldAddresses[slot] = (long)source << 32 | (destination & 0xFFFF_FFFFL);
                heldIds[slot] = protocol << 16 | identification;
                heldTimers[slot] = timers.schedule(holdTimerOwner, slot, now + HOLD_NANOS);
                heldNow[slot] = true;
                pool.next(h, holdStage);
                return true;
            }
        }
        return false;
    }

    /** The first fragment of a datagram was translated: translate and send on the fragments held for it. */
    private void release(final SessionTable table, final int s, final int direction, final int source,
        final int destination, final int protocol, final int identification)
    {
        final long addresses = (long)source << 32 | (destination & 0xFFFF_FFFFL);
        final int id = protocol << 16 | identification;
        for (int slot = 0; slot < HOLD_CAPACITY; slot++)
        {
            final int h = heldHandles[slot];
            if (h >= 0 && heldAddresses[slot] == addresses && heldIds[slot] == id)
            {
                heldHandles[slot] = -1;
                timers.cancel(heldTimers[slot]);
                final int other = direction ^ 1;
                final int newSource = table.destination(s, other);
                final int newDestination = table.source(s, other);
                fragmentIp.wrap(buffer, pool.l3Offset(h));
                fragmentIp.checksum(Checksum.apply(fragmentIp.checksum(), Checksum.delta32(source, newSource) +
                    Checksum.delta32(destination, newDestination)));
                fragmentIp.source(newSource).destination(newDestination);
                continueArc(h);
                if (!heldNow[slot])
                {
                    graph.inject(h, pool.next(h));
                }
                trace(h, source, newSource, 0, TRACE_FRAGMENT);
            }
        }
    }

    /** A held fragment's time is up: it is dropped (worker timers, then the graph drains). */
    private void onHoldTimeout(final long slot, final long nowNanos)
    {
        final int h = heldHandles[(int)slot];
        if (h < 0)
        {
            return;
        }
        heldHandles[(int)slot] = -1;
        pool.dropReason(h, DropReason.NAT_FRAGMENT_TIMEOUT.id());
        graph.inject(h, errorDropStage);
    }

    private void traceTranslation(final int h, final SessionTable table, final int s, final int direction,
        final int kind, final int source, final int sourcePort, final int destination, final int destinationPort)
    {
        final int other = direction ^ 1;
        if (kind == TRACE_IN)
        {
            trace(h, destination, table.source(s, other), destinationPort << 16 | table.sourcePort(s, other), kind);
        }
        else
        {
            trace(h, source, table.destination(s, other), sourcePort << 16 | table.destinationPort(s, other), kind);
        }
    }

    @Override
    public void formatTrace(final int from, final int to, final int ports, final int kind, final StringBuilder out)
    {
        if ((kind & 0xFF) == TRACE_LB)
        {
            // Formatted later, on another thread: the services may have changed since; say so rather than guess.
            final ServiceTable table = services.table();
            final int frontend = ports;
            final boolean known = frontend >= 0 && frontend < table.frontendCount();
            out.append("lb ").append(known ? table.name(table.service(frontend)) : "(changed since)").append(' ');
            Ipv4Address.append(out, from);
            if (known)
            {
                out.append(':').append(table.servicePort(frontend));
            }
            out.append(" -> ");
            Ipv4Address.append(out, to);
            if (known)
            {
                out.append(':').append(table.targetPort(frontend));
            }
            out.append(" (backend ").append((kind >>> 8) & 0xFFF).append(" of ").append(kind >>> 20).append(')');
            return;
        }
        switch (kind)
        {
            case TRACE_OUT, TRACE_HAIRPIN, TRACE_IN ->
            {
                out.append(kind == TRACE_IN ? "nat-in " : kind == TRACE_OUT ? "nat-out " : "nat-hairpin ");
                Ipv4Address.append(out, from).append(':').append(ports >>> 16).append(" -> ");
                Ipv4Address.append(out, to).append(':').append(ports & 0xFFFF);
            }
            case TRACE_ICMP_ERROR ->
            {
                out.append("nat-icmp-error to ");
                Ipv4Address.append(out, from).append(" -> ");
                Ipv4Address.append(out, to);
            }
            case TRACE_RESET ->
            {
                out.append("lb-backend-gone ");
                Ipv4Address.append(out, from).append(':').append(ports >>> 16)
                    .append(" left its service: reset sent to ");
                Ipv4Address.append(out, to).append(':').append(ports & 0xFFFF);
            }
            case TRACE_HELD ->
            {
                out.append("nat-fragment held for its first fragment ");
                Ipv4Address.append(out, from).append(" -> ");
                Ipv4Address.append(out, to);
            }
            case TRACE_FRAGMENT ->
            {
                out.append("nat-fragment ");
                Ipv4Address.append(out, from).append(" -> ");
                Ipv4Address.append(out, to);
            }
            default ->
            {
            }
        }
    }
}
