package io.edgeplane.route;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.RouteConfig;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.route.RouteException.Cause;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The route model users know ({@code Add/Get/Remove-HcsNetRoute}): routes keyed by (interface, prefix/length)
 * with a next hop and a metric. Per prefix, the usable routes (egress port administratively up) with the lowest
 * metric form the next-hop group (several = ECMP); that choice is compiled into the {@link Fib} as the prefix
 * changes, so it costs nothing per packet. System routes come from the ports: the connected subnet (metric 0),
 * the port's own address (/32, local) and the subnet's broadcast address (/32, never forwarded); they beat
 * user routes and cannot be removed.
 * <p>
 * Adding a route with an existing (interface, prefix) key replaces its next hop and metric in one step (no window
 * without the route). Thread safety: changes are serialised by this object's monitor (control plane threads);
 * workers only read {@link #tables()}.
 */
public final class RoutingTable
{
    public static final int MIN_METRIC = RouteConfig.MIN_METRIC;
    public static final int MAX_METRIC = RouteConfig.MAX_METRIC;

    private final java.util.List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final int SYSTEM_LOCAL_METRIC = -2;
    private static final int CONNECTED_METRIC = 0;
    /** Up to this many routes, {@link #addAll} updates in place; beyond, one full rebuild is cheaper. */
    private static final int INCREMENTAL_LIMIT = 4096;

    private static final int TYPE_USER = 0;
    private static final int TYPE_CONNECTED = 1;
    private static final int TYPE_LOCAL = 2;
    private static final int TYPE_BROADCAST = 3;

    private final PortTable ports;
    private final Fib fib;
    private final int maxRoutes;
    private final Map<Long, PrefixState> prefixes = new HashMap<>();
    private int userRoutes;

    private static final class Candidate
    {
        final int port;
        int nextHop;
        int metric;
        final int type;

        Candidate(final int port, final int nextHop, final int metric, final int type)
        {
            this.port = port;
            this.nextHop = nextHop;
            this.metric = metric;
            this.type = type;
        }
    }

    private static final class PrefixState
    {
        final int prefix;
        final int length;
        final List<Candidate> candidates = new ArrayList<>(1);
        int installedGroup = -1;

        PrefixState(final int prefix, final int length)
        {
            this.prefix = prefix;
            this.length = length;
        }
    }

    /**
     * @param ports         the ports (null for an offline table: routes are taken as given, no interface checks).
     * @param maxRoutes     capacity in user routes; more is refused with an error.
     * @param maxTbl8Blocks capacity in /25../32 blocks of 256 entries (1 KiB each).
     */
    public RoutingTable(final PortTable ports, final int maxRoutes, final int maxTbl8Blocks)
    {
        this(ports, maxRoutes, maxTbl8Blocks, System::nanoTime);
    }

    /** @param clock time source of the FIB's id reuse grace period (tests drive it). */
    public RoutingTable(final PortTable ports, final int maxRoutes, final int maxTbl8Blocks, final LongSupplier clock)
    {
        this.ports = ports;
        this.maxRoutes = maxRoutes;
        this.fib = new Fib(maxTbl8Blocks, clock);
        if (ports != null)
        {
            for (int port = 0; port < ports.count(); port++)
            {
                systemRoutes(port);
            }
            for (final PrefixState state : new ArrayList<>(prefixes.values()))
            {
                if (!recompute(state))
                {
                    throw new IllegalStateException("forwarding table capacity exhausted by system routes");
                }
            }
        }
    }

    /** The prefixes a port brings: its connected subnet, its addresses, its subnet's network and broadcast. */
    private List<PrefixState> systemRoutes(final int port)
    {
        final List<PrefixState> touched = new ArrayList<>();
        final int length = ports.prefixLength(port);
        final int subnet = ports.address(port) & Ipv4Address.mask(length);
        touched.add(add(state(subnet, length), new Candidate(port, 0, CONNECTED_METRIC, TYPE_CONNECTED)));
        touched.add(add(state(ports.address(port), 32), new Candidate(port, 0, SYSTEM_LOCAL_METRIC, TYPE_LOCAL)));
        for (final int extra : ports.extraAddresses(port))
        {
            touched.add(add(state(extra, 32), new Candidate(port, 0, SYSTEM_LOCAL_METRIC, TYPE_LOCAL)));
        }
        if (length < 31)
        {
            // The subnet's broadcast and network addresses are never forwarded to (RFC 1812 4.2.3.1).
            touched.add(add(state(subnet | ~Ipv4Address.mask(length), 32),
                new Candidate(port, 0, SYSTEM_LOCAL_METRIC, TYPE_BROADCAST)));
            touched.add(add(state(subnet, 32), new Candidate(port, 0, SYSTEM_LOCAL_METRIC, TYPE_BROADCAST)));
        }
        return touched;
    }

    private static PrefixState add(final PrefixState state, final Candidate candidate)
    {
        state.candidates.add(candidate);
        return state;
    }

    /** A port added at run time (a tunnel): install its system routes. */
    public synchronized void addPort(final int port) throws RouteException
    {
        for (final PrefixState state : systemRoutes(port))
        {
            if (!recompute(state))
            {
                removePort(port);
                throw new RouteException(Cause.CAPACITY, "forwarding table capacity exhausted");
            }
        }
    }

    /** True when a user route goes through {@code port}. */
    public synchronized boolean hasUserRoutes(final int port)
    {
        for (final PrefixState state : prefixes.values())
        {
            for (final Candidate c : state.candidates)
            {
                if (c.type == TYPE_USER && c.port == port)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** A run-time port goes away: every route through it (its system routes; user routes were removed first). */
    public synchronized void removePort(final int port)
    {
        for (final PrefixState state : new ArrayList<>(prefixes.values()))
        {
            if (state.candidates.removeIf(c -> c.port == port && c.type != TYPE_USER))
            {
                recompute(state);
                dropIfEmpty(state);
            }
        }
    }

    /** The compiled tables; a worker reads this once per vector. */
    public FibTables tables()
    {
        return fib.tables();
    }

    private static long key(final int prefix, final int length)
    {
        return (long)length << 32 | (prefix & 0xFFFF_FFFFL);
    }

    private PrefixState state(final int prefix, final int length)
    {
        return prefixes.computeIfAbsent(key(prefix, length), k -> new PrefixState(prefix, length));
    }

    /** Check a route before it touches anything; the message names the field. */
    public void validate(final int port, final int prefix, final int length, final int nextHop, final int metric)
        throws RouteException
    {
        if (ports != null && (port < 0 || port >= ports.count()))
        {
            throw new RouteException(Cause.INTERFACE, "interface: unknown interface");
        }
        try
        {
            RouteConfig.validate(ports, port, prefix, length, nextHop, metric);
        }
        catch (final ConfigException ex)
        {
            throw new RouteException(switch (ex.field())
            {
                case "prefix" -> Cause.PREFIX;
                case "metric" -> Cause.METRIC;
                case "nextHop" -> Cause.NEXT_HOP;
                default -> Cause.INTERFACE;
            }, ex.getMessage());
        }
    }

    /**
     * Add a route, or replace the next hop and metric of the route with the same (interface, prefix).
     *
     * @return true when it replaced an existing route.
     */
    public synchronized boolean add(final int port, final int prefix, final int length, final int nextHop,
        final int metric) throws RouteException
    {
        validate(port, prefix, length, nextHop, metric);
        final PrefixState state = state(prefix, length);
        final Candidate c = userCandidate(state, port);
        if (c != null)
        {
            final int oldNextHop = c.nextHop;
            final int oldMetric = c.metric;
            c.nextHop = nextHop;
            c.metric = metric;
            if (!recompute(state))
            {
                c.nextHop = oldNextHop;
                c.metric = oldMetric;
                recompute(state);
                throw new RouteException(Cause.CAPACITY, "forwarding table capacity exhausted");
            }
            changed();
            return true;
        }
        if (userRoutes >= maxRoutes)
        {
            dropIfEmpty(state);
            throw new RouteException(Cause.CAPACITY, "route table full (capacity " + maxRoutes + " routes)");
        }
        final Candidate added = new Candidate(port, nextHop, metric, TYPE_USER);
        state.candidates.add(added);
        if (!recompute(state))
        {
            state.candidates.remove(added);
            recompute(state);
            dropIfEmpty(state);
            throw new RouteException(Cause.CAPACITY, "forwarding table capacity exhausted");
        }
        userRoutes++;
        changed();
        return false;
    }

    /** @return false when no such route (interface, prefix) exists. */
    public synchronized boolean remove(final int port, final int prefix, final int length)
    {
        final PrefixState state = prefixes.get(key(prefix, length));
        if (state == null)
        {
            return false;
        }
        final Candidate c = userCandidate(state, port);
        if (c == null)
        {
            return false;
        }
        state.candidates.remove(c);
        userRoutes--;
        recompute(state);
        dropIfEmpty(state);
        changed();
        return true;
    }

    /**
     * Add many routes at once (config, route files): validated first, then compiled (in place for a few, with one
     * full build for many). All or nothing.
     */
    public synchronized void addAll(final List<RouteConfig> routes, final List<Integer> portIndexes)
        throws RouteException
    {
        if (routes.isEmpty())
        {
            return;
        }
        for (int i = 0; i < routes.size(); i++)
        {
            final RouteConfig r = routes.get(i);
            try
            {
                validate(portIndexes.get(i), r.prefix(), r.prefixLength(), r.nextHop(), r.metric());
            }
            catch (final RouteException ex)
            {
                throw new RouteException(ex.cause(), "route " + (i + 1) + " (" + Ipv4Address.format(r.prefix()) + "/" +
                    r.prefixLength() + "): " + ex.getMessage());
            }
        }
        final List<Undo> undo = new ArrayList<>();
        int added = 0;
        for (int i = 0; i < routes.size(); i++)
        {
            final RouteConfig r = routes.get(i);
            final int port = portIndexes.get(i);
            final PrefixState state = state(r.prefix(), r.prefixLength());
            Candidate candidate = userCandidate(state, port);
            if (candidate != null)
            {
                undo.add(new Undo(state, candidate, false, candidate.nextHop, candidate.metric));
                candidate.nextHop = r.nextHop();
                candidate.metric = r.metric();
            }
            else
            {
                candidate = new Candidate(port, r.nextHop(), r.metric(), TYPE_USER);
                state.candidates.add(candidate);
                undo.add(new Undo(state, candidate, true, 0, 0));
                added++;
            }
        }
        final boolean fits = userRoutes + added <= maxRoutes;
        if (!fits || !(undo.size() <= INCREMENTAL_LIMIT ? recomputeAll(undo) : rebuild()))
        {
            for (int i = undo.size() - 1; i >= 0; i--)
            {
                final Undo u = undo.get(i);
                if (u.added())
                {
                    u.state().candidates.remove(u.candidate());
                    dropIfEmpty(u.state());
                }
                else
                {
                    u.candidate().nextHop = u.nextHop();
                    u.candidate().metric = u.metric();
                }
            }
            rebuildOrThrow();
            throw new RouteException(Cause.CAPACITY, userRoutes + added > maxRoutes ?
                "route table full (capacity " + maxRoutes + " routes)" : "forwarding table capacity exhausted");
        }
        userRoutes += added;
        changed();
    }

    /**
     * Compile the prefixes a batch touched one by one, in place (a few routes: a full rebuild would allocate a second
     * 64 MiB table for nothing).
     */
    private boolean recomputeAll(final List<Undo> changes)
    {
        for (final Undo change : changes)
        {
            if (!recompute(change.state()))
            {
                return false;
            }
        }
        return true;
    }

    /** How to take back one route of a failed {@link #addAll}: remove it, or restore its next hop and metric. */
    private record Undo(PrefixState state, Candidate candidate, boolean added, int nextHop, int metric)
    {
    }

    private static Candidate userCandidate(final PrefixState state, final int port)
    {
        for (final Candidate c : state.candidates)
        {
            if (c.type == TYPE_USER && c.port == port)
            {
                return c;
            }
        }
        return null;
    }

    /**
     * Make {@code ip} a local address of {@code port} (a NAT pool address, a LoadBalancer VIP): a local /32 entry
     * first, then the port's address list (so ARP answers only once packets to it are accepted).
     *
     * @return false when the port holds it already.
     */
    public synchronized boolean addAddress(final int port, final int ip) throws RouteException
    {
        if (ports.holds(port, ip))
        {
            return false;
        }
        final PrefixState state = state(ip, 32);
        final Candidate local = new Candidate(port, 0, SYSTEM_LOCAL_METRIC, TYPE_LOCAL);
        state.candidates.add(local);
        if (!recompute(state))
        {
            state.candidates.remove(local);
            dropIfEmpty(state);
            throw new RouteException(Cause.CAPACITY, "forwarding table capacity exhausted");
        }
        ports.addAddress(port, ip);
        return true;
    }

    /** Take back an address given by {@link #addAddress}: the port stops answering ARP for it, then the route goes. */
    public synchronized boolean removeAddress(final int port, final int ip)
    {
        if (!ports.removeAddress(port, ip))
        {
            return false;
        }
        final PrefixState state = prefixes.get(key(ip, 32));
        if (state != null)
        {
            state.candidates.removeIf(c -> c.type == TYPE_LOCAL && c.port == port);
            recompute(state);
            dropIfEmpty(state);
        }
        return true;
    }

    /** Re-evaluate every prefix with a route through {@code port}, after its administrative or link state changed. */
    public synchronized void refreshPort(final int port)
    {
        for (final PrefixState state : prefixes.values())
        {
            for (final Candidate c : state.candidates)
            {
                if (c.port == port)
                {
                    recompute(state);
                    break;
                }
            }
        }
        changed();
    }

    /**
     * Be told after every change of the user routes or of a port's usability (control thread, with this table
     * locked: a listener that changes the table again does so under the same lock). NAT follows the default route
     * this way.
     */
    public void onChange(final Runnable listener)
    {
        listeners.add(listener);
    }

    private void changed()
    {
        for (final Runnable listener : listeners)
        {
            listener.run();
        }
    }

    /** The port of the best usable default route (0.0.0.0/0, lowest metric; the lowest port among equals), or -1. */
    public synchronized int defaultRoutePort()
    {
        final PrefixState state = prefixes.get(key(0, 0));
        if (state == null)
        {
            return -1;
        }
        int best = -1;
        int bestMetric = Integer.MAX_VALUE;
        for (final Candidate c : state.candidates)
        {
            if (c.type == TYPE_USER && usable(c) && (c.metric < bestMetric || c.metric == bestMetric && c.port < best))
            {
                best = c.port;
                bestMetric = c.metric;
            }
        }
        return best;
    }

    /** User routes, optionally of one interface (port index, or -1 for all), sorted by prefix, length, port. */
    public synchronized List<RouteConfig> routes(final int port)
    {
        final List<RouteConfig> out = new ArrayList<>();
        for (final PrefixState state : prefixes.values())
        {
            for (final Candidate c : state.candidates)
            {
                if (c.type == TYPE_USER && (port < 0 || c.port == port))
                {
                    out.add(new RouteConfig(ports == null ? "-" : ports.name(c.port), state.prefix, state.length,
                        c.nextHop, c.metric));
                }
            }
        }
        out.sort(Comparator.comparingLong((RouteConfig r) -> r.prefix() & 0xFFFF_FFFFL)
            .thenComparingInt(RouteConfig::prefixLength).thenComparing(RouteConfig::interfaceName));
        return out;
    }

    /** Adjacencies in use by installed groups. */
    public synchronized int adjacencyCount()
    {
        return fib.adjacencyCount();
    }

    public synchronized int userRouteCount()
    {
        return userRoutes;
    }

    private void dropIfEmpty(final PrefixState state)
    {
        if (state.candidates.isEmpty() && state.installedGroup < 0)
        {
            prefixes.remove(key(state.prefix, state.length));
        }
    }

    private boolean usable(final Candidate c)
    {
        return ports == null || c.type == TYPE_LOCAL || c.type == TYPE_BROADCAST ||
            ports.adminUp(c.port) && ports.linkUp(c.port);
    }

    /** The group this prefix should resolve to now (a reference the caller must release), or -1. */
    private int bestGroup(final PrefixState state)
    {
        int best = Integer.MAX_VALUE;
        int count = 0;
        for (final Candidate c : state.candidates)
        {
            if (usable(c))
            {
                if (c.metric < best)
                {
                    best = c.metric;
                    count = 1;
                }
                else if (c.metric == best)
                {
                    count++;
                }
            }
        }
        if (count == 0)
        {
            return -1;
        }
        final List<Candidate> members = new ArrayList<>(count);
        for (final Candidate c : state.candidates)
        {
            if (usable(c) && c.metric == best)
            {
                members.add(c);
            }
        }
        members.sort(Comparator.comparingInt((Candidate c) -> c.port)
            .thenComparingLong(c -> c.nextHop & 0xFFFF_FFFFL));
        final int type = members.get(0).type;
        final int kind = type == TYPE_LOCAL ? FibTables.KIND_LOCAL :
            type == TYPE_BROADCAST ? FibTables.KIND_BROADCAST : FibTables.KIND_FORWARD;
        final int[] memberPorts = new int[count];
        final int[] gateways = new int[count];
        final int[] nexts = new int[count];
        for (int i = 0; i < count; i++)
        {
            memberPorts[i] = members.get(i).port;
            gateways[i] = members.get(i).nextHop;
            nexts[i] = ports != null && ports.kind(memberPorts[i]) == PortTable.KIND_VXLAN ?
                Adjacency.VXLAN_ENCAP : Adjacency.REWRITE;
        }
        return fib.acquireGroup(kind, memberPorts, gateways, nexts);
    }

    private int coveringEntry(final int prefix, final int length)
    {
        for (int l = length - 1; l >= 0; l--)
        {
            final PrefixState s = prefixes.get(key(prefix & Ipv4Address.mask(l), l));
            if (s != null && s.installedGroup >= 0)
            {
                return Fib.entry(l, s.installedGroup);
            }
        }
        return 0;
    }

    /** @return false when the FIB has no room even after a compacting rebuild (state unchanged then). */
    private boolean recompute(final PrefixState state)
    {
        final int group = bestGroup(state);
        final int previous = state.installedGroup;
        if (group == previous)
        {
            if (group >= 0)
            {
                fib.releaseGroup(group);
            }
            return true;
        }
        if (group >= 0)
        {
            if (!fib.install(state.prefix, state.length, group))
            {
                fib.releaseGroup(group);
                return rebuild();
            }
        }
        else
        {
            fib.remove(state.prefix, state.length, coveringEntry(state.prefix, state.length));
        }
        // Make before break: the old group is released only after no entry names it any more.
        state.installedGroup = group;
        if (previous >= 0)
        {
            fib.releaseGroup(previous);
        }
        return true;
    }

    /**
     * Recompute every prefix's group and build fresh tables; each prefix's old group is released when the new
     * tables are published, the new ones when they could not be built (nothing changes then).
     */
    private boolean rebuild()
    {
        final List<PrefixState> states = new ArrayList<>(prefixes.values());
        final List<int[]> compiled = new ArrayList<>(states.size());
        final int[] groups = new int[states.size()];
        for (int i = 0; i < states.size(); i++)
        {
            groups[i] = bestGroup(states.get(i));
            if (groups[i] >= 0)
            {
                compiled.add(new int[] {states.get(i).prefix, states.get(i).length, groups[i]});
            }
        }
        final boolean built = fib.rebuild(compiled);
        for (int j = 0; j < states.size(); j++)
        {
            final PrefixState state = states.get(j);
            final int release = built ? state.installedGroup : groups[j];
            if (built)
            {
                state.installedGroup = groups[j];
            }
            if (release >= 0)
            {
                fib.releaseGroup(release);
            }
        }
        return built;
    }

    private void rebuildOrThrow()
    {
        if (!rebuild())
        {
            throw new IllegalStateException("forwarding table capacity exhausted by system routes");
        }
    }
}
