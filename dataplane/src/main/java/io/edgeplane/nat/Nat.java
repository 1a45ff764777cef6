package io.edgeplane.nat;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.NatConfig;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.session.SessionTable;
import io.edgeplane.stage.FeatureArc;
import io.edgeplane.timer.WorkerTimers;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The masquerade feature as the control plane sees it: it resolves the {@link NatConfig} against ports and routes
 * into {@link NatSettings}, publishes them (one volatile store), enables the {@code nat} stage on the inside ports
 * and the outside port, makes the pool addresses local addresses of the outside port (so ARP and ping answer for
 * them), and follows the best default route when no outside port is named: on every route change the outside
 * port is worked out again, and new flows use the new one.
 * <p>
 * The worker's {@link SessionTable} is allocated here when NAT is first configured, with room for
 * {@code maxSessions}; a later change may lower that limit or raise it up to that room (a bigger table needs a
 * restart, so established flows are never dropped by a settings change). Its SipHash key is drawn from
 * {@link SecureRandom} when the tables are made; its port choices follow the config's seed, so replays are
 * deterministic.
 * <p>
 * Changes run on control threads under the routing table's lock (the route listener already holds it).
 */
public final class Nat
{
    private final PortTable ports;
    private final RoutingTable routes;
    private final int portSeed;
    private FeatureArc unicast;
    private String stage;
    private volatile NatSettings settings;
    /** One connection table per worker, made all at once when NAT or services are first configured. */
    private volatile SessionTable[] tables;
    private final int workers;
    private NatConfig config;
    private int heldPort = -1;
    private int[] heldAddresses = new int[0];
    private final boolean[] enabled = new boolean[PortTable.CAPACITY];
    private boolean servicesActive;
    /** Sessions the table holds when services alone (no NAT config) make it. */
    public static final int SERVICES_ONLY_SESSIONS = 1 << 18;
    private static final NatConfig OFF = NatConfig.fromJson(java.util.List.of(), null, null, null, null, null, null, null);

    public Nat(final PortTable ports, final RoutingTable routes, final int portSeed)
    {
        this(ports, routes, portSeed, 1);
    }

    /**
     * @param workers the workers that will attach: each gets its own session table (of {@code maxSessions / workers}
     *                sessions) and its own slice of the port range.
     */
    public Nat(final PortTable ports, final RoutingTable routes, final int portSeed, final int workers)
    {
        this.workers = workers;
        this.ports = ports;
        this.routes = routes;
        this.portSeed = portSeed;
    }

    /**
     * Wire to the first worker's graph and timers (dataplane assembly, before traffic). Other workers' arcs mirror
     * this one ({@link FeatureArc#mirror}); they attach their timers with {@link #attachWorker}.
     */
    public void attach(final FeatureArc unicast, final String stage, final WorkerTimers timers)
    {
        this.unicast = unicast;
        this.stage = stage;
        attachWorker(0, timers);
        routes.onChange(this::reconcile);
    }

    /** Expire worker {@code worker}'s sessions on its own timers. */
    public void attachWorker(final int worker, final WorkerTimers timers)
    {
        timers.poller((nowNanos, limit) ->
        {
            final SessionTable[] t = tables;
            return t == null ? 0 : t[worker].pollExpiry(nowNanos, limit);
        });
    }

    public int workers()
    {
        return workers;
    }

    /** Sessions one worker may hold: its share of {@code maxSessions}. */
    public int perWorker(final int maxSessions)
    {
        return (maxSessions + workers - 1) / workers;
    }

    /** The first port of worker {@code worker}'s slice of {@code [low, high]}. */
    public static int sliceLow(final int low, final int high, final int worker, final int workers)
    {
        return low + worker * sliceSize(low, high, workers);
    }

    /** The last port of worker {@code worker}'s slice (the last worker takes the remainder). */
    public static int sliceHigh(final int low, final int high, final int worker, final int workers)
    {
        return worker == workers - 1 ? high : sliceLow(low, high, worker, workers) + sliceSize(low, high, workers) - 1;
    }

    /** The worker whose slice holds {@code port} (in {@code [low, high]}): a translated reply's owner. */
    public static int sliceOwner(final int low, final int high, final int port, final int workers)
    {
        return Math.min((port - low) / sliceSize(low, high, workers), workers - 1);
    }

    private static int sliceSize(final int low, final int high, final int workers)
    {
        return Math.max(1, (high - low + 1) / workers);
    }

    /** The settings in force, or null when NAT is off (worker: once per vector). */
    public NatSettings settings()
    {
        return settings;
    }

    /** The first worker's session table, or null before NAT was first configured. */
    public SessionTable table()
    {
        return table(0);
    }

    /** Worker {@code worker}'s session table, or null before NAT was first configured. */
    public SessionTable table(final int worker)
    {
        final SessionTable[] t = tables;
        return t == null ? null : t[worker];
    }

    /** The config in force, or null. */
    public NatConfig config()
    {
        synchronized (routes)
        {
            return config;
        }
    }

    /**
     * Apply a config (null or no inside ports: NAT off; existing sessions stay until they expire or are flushed).
     *
     * @throws ConfigException naming the field, with nothing changed.
     */
    public void configure(final NatConfig next) throws ConfigException
    {
        synchronized (routes)
        {
            if (next != null && next.enabled())
            {
                next.check(ports, config == null ? java.util.List.of() : config.addresses());
                final SessionTable t = table(0);
                if (t != null && perWorker(next.maxSessions()) > t.capacity())
                {
                    throw new ConfigException("maxSessions", "maxSessions: " + next.maxSessions() + " is more than " +
                        "the " + (long)t.capacity() * workers + " sessions the table was allocated with; restart " +
                        "the gateway to raise it");
                }
            }
            final NatConfig previous = config;
            config = next;
            try
            {
                apply();
            }
            catch (final ConfigException ex)
            {
                config = previous;
                apply();
                throw ex;
            }
        }
    }

    /**
     * Services exist (or no longer do): the connection table is then needed without NAT too, and the stage runs on
     * every port (service traffic and backends' replies may come in anywhere).
     */
    public void servicesActive(final boolean active) throws ConfigException
    {
        synchronized (routes)
        {
            servicesActive = active;
            apply();
        }
    }

    /** Route change (control thread, routing table locked): the outside port may have moved. */
    private void reconcile()
    {
        try
        {
            apply();
        }
        catch (final ConfigException ex)
        {
            // Only a full forwarding table can refuse a pool address here; NAT stays on with the ports it had.
        }
    }

    private void apply() throws ConfigException
    {
        if (unicast == null)
        {
            throw new IllegalStateException("NAT is not attached to a dataplane");
        }
        final boolean natOn = config != null && config.enabled();
        if (!natOn && !servicesActive)
        {
            settings = null;
            enable(new boolean[PortTable.CAPACITY]);
            moveAddresses(-1, new int[0]);
            return;
        }
        if (tables == null)
        {
            // nat.maxSessions sizes the connection tables, also when only services use them (inside: []).
            final int capacity = perWorker(config != null ? config.maxSessions() : SERVICES_ONLY_SESSIONS);
            // The hash key is drawn here, not when the dataplane is built: a config without NAT or services
            // (most replays) does not pay for starting SecureRandom.
            final SecureRandom random = new SecureRandom();
            final long k0 = random.nextLong();
            final long k1 = random.nextLong();
            final SessionTable[] made = new SessionTable[workers];
            for (int w = 0; w < workers; w++)
            {
                made[w] = new SessionTable(capacity, k0, k1, portSeed + w);
            }
            tables = made;
        }
        final boolean[] everywhere = new boolean[PortTable.CAPACITY];
        if (servicesActive)
        {
            for (int port = 0; port < ports.count(); port++)
            {
                everywhere[port] = ports.kind(port) != PortTable.KIND_RETIRED;
            }
        }
        if (!natOn)
        {
            moveAddresses(-1, new int[0]);
            settings = new NatSettings(OFF, new int[0], -1, new int[0]);
            enable(everywhere);
            return;
        }
        final int[] inside = config.inside().stream().mapToInt(ports::indexOf).toArray();
        int outside = config.outside() != null ? ports.indexOf(config.outside()) : routes.defaultRoutePort();
        for (final int port : inside)
        {
            if (port == outside)
            {
                outside = -1;
            }
        }
        final int[] pool = config.addresses().stream().mapToInt(Integer::intValue).toArray();
        moveAddresses(outside, outside < 0 ? new int[0] : pool);
        final int[] addresses = outside < 0 ? new int[0] : pool.length > 0 ? pool : new int[] {ports.address(outside)};
        final boolean[] on = everywhere;
        for (final int port : inside)
        {
            on[port] = true;
        }
        if (outside >= 0)
        {
            on[outside] = true;
        }
        settings = new NatSettings(config, inside, outside, addresses);
        enable(on);
    }

    private void enable(final boolean[] on)
    {
        for (int port = 0; port < PortTable.CAPACITY; port++)
        {
            if (enabled[port] != on[port])
            {
                unicast.enable(stage, port, on[port]);
                enabled[port] = on[port];
            }
        }
    }

    /** Make the pool addresses local addresses of {@code port} (and no longer of the port that had them). */
    private void moveAddresses(final int port, final int[] pool) throws ConfigException
    {
        if (port == heldPort && Arrays.equals(pool, heldAddresses))
        {
            return;
        }
        for (final int address : heldAddresses)
        {
            routes.removeAddress(heldPort, address);
        }
        heldPort = -1;
        heldAddresses = new int[0];
        int added = 0;
        try
        {
            for (final int address : pool)
            {
                routes.addAddress(port, address);
                added++;
            }
        }
        catch (final RouteException ex)
        {
            for (int i = 0; i < added; i++)
            {
                routes.removeAddress(port, pool[i]);
            }
            throw new ConfigException("addresses", "addresses: " + ex.getMessage());
        }
        heldPort = pool.length == 0 ? -1 : port;
        heldAddresses = pool.clone();
    }
}
