package io.edgeplane.lb;

import io.edgeplane.config.ServiceConfig;
import io.edgeplane.config.ServiceNetworkConfig;
import io.edgeplane.port.PortTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The services as the worker reads them: an immutable snapshot, rebuilt by the control plane on every change and
 * published whole (one volatile store in {@link Services}), so a lookup sees the old or the new set, never a mix.
 * <p>
 * A <b>frontend</b> is one (address, protocol, port) a service answers on: its ClusterIP and port (only for
 * {@code clusterSources}), its LoadBalancer VIP and port, and its node port on every address of the box. Frontends
 * are found by open addressing over {@code address << 32 | protocol << 16 | port}, so the cost does not depend on
 * the number of services. Each frontend has its target port and the Maglev table of its service's ready backends
 * (backend addresses, 65,537 entries by default).
 * <p>
 * Services have stable ids ({@link Services} keeps them across snapshots) and a version that changes when their
 * backend set does; the snapshot's {@link #generation} sums them. A session stores its service's id and the
 * generation it was checked under, and only after a change does the worker check that its backend is still there.
 */
public final class ServiceTable
{
    public static final ServiceTable EMPTY = new ServiceTable();

    private final long[] keys;
    private final int[] values;
    private final int mask;
    private final int frontendCount;
    private final int[] frontendService;
    private final int[] targetPort;
    private final int[] servicePort;
    private final boolean[] clusterOnly;
    private final long[] affinityNanos;
    private final int[][] maglev;
    private final String[] names;
    private final int generation;
    private final int[][] readyBackends;
    /** Per service id, every listed backend address, ready or not, sorted. */
    private final int[][] listedBackends;
    private final ServiceNetworkConfig network;
    /** The Maglev tables by backend set, for the next build to reuse (a change rebuilds only what changed). */
    private final Map<List<Maglev.Backend>, int[]> tablesBySet;
    /** Per service record (by identity: an unchanged service is the same object), what was built for it. */
    private final Map<ServiceConfig, Built> built;
    private final int maglevSize;
    /**
     * Every listed backend's (address, protocol, target port), and its address: replies' owners (several workers);
     * also those of backends that left within {@link #DEPARTED_NANOS}, whose packets on flows they served must still
     * reach the worker owning the flow, which ends it.
     */
    private final org.agrona.collections.LongHashSet backendEndpoints;
    private final org.agrona.collections.IntHashSet backendAddresses;
    /** Endpoints (and addresses, as {@code key(address, 0, 0)}) of departed backends, with when they left. */
    private final Map<Long, Long> departures;
    /**
     * How long a departed backend's endpoints stay indexed: its flows end at their next packet, so by then only a flow
     * idle all along is left, and that one ends at its client's next packet instead (the backend's goes elsewhere).
     */
    public static final long DEPARTED_NANOS = 300_000_000_000L;

    /**
     * A service's Maglev table of backend addresses, its ready backends in order, the set's key, and every listed
     * backend (sorted).
     */
    private record Built(int[] table, int[] ready, List<Maglev.Backend> key, int[] listed)
    {
    }

    private ServiceTable()
    {
        keys = new long[2];
        values = new int[2];
        mask = 1;
        frontendCount = 0;
        frontendService = new int[0];
        targetPort = new int[0];
        servicePort = new int[0];
        clusterOnly = new boolean[0];
        affinityNanos = new long[0];
        maglev = new int[0][];
        names = new String[0];
        generation = 0;
        readyBackends = new int[0][];
        listedBackends = new int[0][];
        network = null;
        tablesBySet = Map.of();
        built = Map.of();
        maglevSize = 0;
        backendEndpoints = null;
        backendAddresses = null;
        departures = Map.of();
    }

    /**
     * @param ids      each service's stable id (index into the id-indexed arrays).
     * @param versions per id, the version of its backend set.
     * @param idCount  one more than the largest id.
     * @param previous the table this one replaces: its Maglev tables are reused for unchanged backend sets.
     * @param now      {@link System#nanoTime()} now: when backends missing from this table left.
     */
    ServiceTable(final ServiceNetworkConfig network, final List<ServiceConfig> services, final int[] ids,
        final int[] versions, final int idCount, final PortTable ports, final int maglevSize,
        final ServiceTable previous, final boolean indexBackends, final long now)
    {
        if (indexBackends)
        {
            backendEndpoints = new org.agrona.collections.LongHashSet();
            backendAddresses = new org.agrona.collections.IntHashSet();
            for (final ServiceConfig service : services)
            {
                for (final ServiceConfig.Backend backend : service.backends())
                {
                    backendAddresses.add(backend.ip());
                    for (final ServiceConfig.Port port : service.ports())
                    {
                        backendEndpoints.add(key(backend.ip(), port.protocol(), port.targetPort()));
                    }
                }
            }
            departures = new HashMap<>();
            if (previous.backendEndpoints != null)
            {
                previous.backendEndpoints.forEach(key -> depart(previous, key, now));
                previous.backendAddresses.forEach(address -> depart(previous, key(address, 0, 0), now));
            }
            departures.forEach((key, since) ->
            {
                if ((int)(key & 0xFFFF_FFFFL) == 0)
                {
                    backendAddresses.add((int)(key >>> 32));
                }
                else
                {
                    backendEndpoints.add(key);
                }
            });
        }
        else
        {
            backendEndpoints = null;
            backendAddresses = null;
            departures = Map.of();
        }
        tablesBySet = new HashMap<>();
        built = new java.util.IdentityHashMap<>();
        this.maglevSize = maglevSize;
        this.network = network;
        int sum = 0;
        for (final int version : versions)
        {
            sum += version;
        }
        this.generation = sum;
        this.names = new String[idCount];
        this.readyBackends = new int[idCount][];
        this.listedBackends = new int[idCount][];
        final List<long[]> frontends = new ArrayList<>();
        final long[] affinityById = new long[idCount];
        final List<int[]> tables = new ArrayList<>();
        for (int i = 0; i < services.size(); i++)
        {
            final ServiceConfig service = services.get(i);
            final int id = ids[i];
            names[id] = service.name();
            affinityById[id] = ServiceConfig.CLIENT_IP.equals(service.sessionAffinity()) ?
                service.affinityTimeoutSeconds() * 1_000_000_000L : 0;
            Built made = previous.maglevSize == maglevSize ? previous.built.get(service) : null;
            if (made == null)
            {
                final List<Maglev.Backend> ready = new ArrayList<>();
                for (final ServiceConfig.Backend backend : service.backends())
                {
                    if (backend.ready())
                    {
                        ready.add(new Maglev.Backend(backend.ip(), 0, backend.weight()));
                    }
                }
                final Maglev.Backend[] set = ready.toArray(Maglev.Backend[]::new);
                final Maglev.Backend[] sorted = Maglev.sorted(set);
                // Same backend set and size, same table (Maglev is a function of them): built once, shared.
                final List<Maglev.Backend> setKey = List.of(sorted);
                int[] table = tablesBySet.get(setKey);
                if (table == null)
                {
                    final int[] reused = previous.tablesBySet.get(setKey);
                    table = reused != null && reused.length == maglevSize ? reused : addresses(sorted,
                        Maglev.build(set, maglevSize));
                }
                made = new Built(table, Arrays.stream(sorted).mapToInt(Maglev.Backend::address).toArray(), setKey,
                    service.backends().stream().mapToInt(ServiceConfig.Backend::ip).sorted().distinct().toArray());
            }
            built.put(service, made);
            tablesBySet.putIfAbsent(made.key(), made.table());
            final int[] table = made.table();
            readyBackends[id] = made.ready();
            listedBackends[id] = made.listed();
            for (final ServiceConfig.Port port : service.ports())
            {
                final int t = tables.size();
                tables.add(table);
                frontends.add(new long[] {key(service.clusterIp(), port.protocol(), port.port()), id,
                    port.targetPort(), 1, t});
                if (service.loadBalancerIp() != 0)
                {
                    frontends.add(new long[] {key(service.loadBalancerIp(), port.protocol(), port.port()), id,
                        port.targetPort(), 0, t});
                }
                if (port.nodePort() != 0)
                {
                    for (int p = 0; p < ports.count(); p++)
                    {
                        if (ports.kind(p) != PortTable.KIND_RETIRED)
                        {
                            frontends.add(new long[] {key(ports.address(p), port.protocol(), port.nodePort()), id,
                                port.targetPort(), 0, t});
                        }
                    }
                }
            }
        }
        frontendCount = frontends.size();
        frontendService = new int[frontendCount];
        targetPort = new int[frontendCount];
        servicePort = new int[frontendCount];
        clusterOnly = new boolean[frontendCount];
        affinityNanos = new long[frontendCount];
        maglev = new int[frontendCount][];
        final int slots = Integer.highestOneBit(Math.max(2, frontendCount * 2 - 1)) << 1;
        keys = new long[slots];
        values = new int[slots];
        mask = slots - 1;
        Arrays.fill(values, -1);
        for (int f = 0; f < frontendCount; f++)
        {
            final long[] frontend = frontends.get(f);
            frontendService[f] = (int)frontend[1];
            targetPort[f] = (int)frontend[2];
            servicePort[f] = (int)(frontend[0] & 0xFFFF);
            clusterOnly[f] = frontend[3] != 0;
            affinityNanos[f] = affinityById[(int)frontend[1]];
            maglev[f] = tables.get((int)frontend[4]);
            int slot = home(frontend[0]);
            while (values[slot] >= 0)
            {
                slot = (slot + 1) & mask;
            }
            keys[slot] = frontend[0];
            values[slot] = f;
        }
    }

    /**
     * Carry one of the previous table's indexed keys over as departed when this table no longer lists it: since
     * it left (now, or earlier if it had already left), until {@link #DEPARTED_NANOS} after that.
     */
    private void depart(final ServiceTable previous, final long key, final long now)
    {
        final boolean address = (int)(key & 0xFFFF_FFFFL) == 0;
        if (address ? backendAddresses.contains((int)(key >>> 32)) : backendEndpoints.contains(key))
        {
            return;
        }
        final Long since = previous.departures.get(key);
        final long left = since != null ? since : now;
        if (now - left < DEPARTED_NANOS)
        {
            departures.put(key, left);
        }
    }

    private static int[] addresses(final Maglev.Backend[] sorted, final int[] entries)
    {
        final int[] table = new int[entries.length];
        for (int e = 0; e < entries.length; e++)
        {
            table[e] = sorted[entries[e]].address();
        }
        return table;
    }

    private static long key(final int address, final int protocol, final int port)
    {
        return (long)address << 32 | (long)protocol << 16 | port;
    }

    private int home(final long key)
    {
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        h ^= h >>> 29;
        return (int)h & mask;
    }

    public int frontendCount()
    {
        return frontendCount;
    }

    public boolean isEmpty()
    {
        return frontendCount == 0;
    }

    /** The frontend serving a packet's destination, or -1. */
    public int lookup(final int protocol, final int address, final int port)
    {
        if (frontendCount == 0)
        {
            return -1;
        }
        final long key = key(address, protocol, port);
        int slot = home(key);
        while (values[slot] >= 0)
        {
            if (keys[slot] == key)
            {
                return values[slot];
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    /**
     * True when ({@code address}, {@code protocol}, {@code port}) is a listed backend of some service (ready or not),
     * or was within {@link #DEPARTED_NANOS}: a packet from it may be a reply to a translated flow. Only with an
     * indexed table (several workers).
     */
    public boolean isBackendEndpoint(final int address, final int protocol, final int port)
    {
        return backendEndpoints != null && backendEndpoints.contains(key(address, protocol, port));
    }

    /**
     * True when {@code address} is (or was, as {@link #isBackendEndpoint}) a listed backend of some service
     * (fragments and ICMP: no ports to match).
     */
    public boolean isBackendAddress(final int address)
    {
        return backendAddresses != null && backendAddresses.contains(address);
    }

    /** The stable id of the frontend's service. */
    public int service(final int frontend)
    {
        return frontendService[frontend];
    }

    public String name(final int service)
    {
        return names[service];
    }

    public int targetPort(final int frontend)
    {
        return targetPort[frontend];
    }

    /** The port the frontend answers on (the service port, or the node port). */
    public int servicePort(final int frontend)
    {
        return servicePort[frontend];
    }

    /** True for a ClusterIP frontend: only {@code clusterSources} may use it. */
    public boolean clusterOnly(final int frontend)
    {
        return clusterOnly[frontend];
    }

    /** ClientIP affinity of the frontend's service: how long a client sticks to its backend, 0 for none. */
    public long affinityNanos(final int frontend)
    {
        return affinityNanos[frontend];
    }

    /** True when {@code source} may reach ClusterIPs. */
    public boolean clusterSource(final int source)
    {
        return network != null && network.clusterSource(source);
    }

    /** Ready backends of the frontend's service (0: new connections are refused). */
    public int readyCount(final int frontend)
    {
        return readyBackends[frontendService[frontend]].length;
    }

    /** A frontend's Maglev table of backend addresses (tests). */
    int[] maglevTable(final int frontend)
    {
        return maglev[frontend];
    }

    /** The backend Maglev picks for a flow. */
    public int backend(final int frontend, final int flowHash)
    {
        final int[] table = maglev[frontend];
        return table[Maglev.entry(flowHash, table.length)];
    }

    /** The position of {@code backend} among the service's ready backends (sorted), or -1 (for the tracer). */
    public int backendIndex(final int service, final int backend)
    {
        final int[] ready = service < readyBackends.length ? readyBackends[service] : null;
        if (ready == null)
        {
            return -1;
        }
        for (int i = 0; i < ready.length; i++)
        {
            if (ready[i] == backend)
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * True when {@code backend} is still one of the service's backends, ready or not: a backend that is not ready
     * (terminating, still serving) takes no new flows but keeps the ones it has until they end.
     */
    public boolean isListed(final int service, final int backend)
    {
        final int[] listed = service < listedBackends.length ? listedBackends[service] : null;
        return listed != null && Arrays.binarySearch(listed, backend) >= 0;
    }

    public int backendCount(final int service)
    {
        final int[] ready = service < readyBackends.length ? readyBackends[service] : null;
        return ready == null ? 0 : ready.length;
    }

    /**
     * Moves whenever any service's backend set changes (the sum of the versions, which only grow): a session stores
     * it when made, and only a session made under another generation reads its own service's backends again. An
     * established flow thus checks one field of this snapshot, whatever the number of services.
     */
    public int generation()
    {
        return generation;
    }
}
