package io.edgeplane.lb;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ServiceConfig;
import io.edgeplane.config.ServiceNetworkConfig;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The services as the control plane changes them: {@link #configure} builds a new {@link ServiceTable} (Maglev
 * tables included) off the worker, publishes it with one volatile store, and makes every LoadBalancer VIP a local
 * address of the port whose subnet holds it, so the gateway answers ARP and ping for it (MetalLB's L2 mode). Service
 * ids stay the same for a service name across changes; a service's version moves when its backends or their
 * readiness change.
 */
public final class Services
{
    private final PortTable ports;
    private final RoutingTable routes;
    private final int maglevSize;
    private volatile ServiceTable table = ServiceTable.EMPTY;
    private boolean indexBackends;
    private List<ServiceConfig> services = List.of();
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<Integer> versions = new ArrayList<>();
    private final Map<String, Map<Integer, Boolean>> backendSets = new HashMap<>();
    private final Map<Integer, Integer> heldVips = new HashMap<>();
    /** VIPs that arrived on a port ({@code port << 32 | address}), for the worker to announce. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Long> announcements =
        new java.util.concurrent.ConcurrentLinkedQueue<>();

    public Services(final PortTable ports, final RoutingTable routes, final int maglevSize)
    {
        this.ports = ports;
        this.routes = routes;
        this.maglevSize = maglevSize;
    }

    /** The next VIP to announce ({@code port << 32 | address}), or -1 (worker). */
    public long pollAnnouncement()
    {
        final Long next = announcements.isEmpty() ? null : announcements.poll();
        return next == null ? -1L : next;
    }

    /**
     * Index every backend endpoint in the tables built from now on (several workers: the dispatcher sends a
     * backend's reply to the worker that owns its client's flows). Before the first {@link #configure}.
     */
    public synchronized void indexBackends()
    {
        indexBackends = true;
    }

    /** The snapshot in force (worker: once per vector). */
    public ServiceTable table()
    {
        return table;
    }

    public synchronized List<ServiceConfig> services()
    {
        return services;
    }

    /** Apply a whole, already checked and allocated service set (control thread). */
    public void configure(final ServiceNetworkConfig network, final List<ServiceConfig> next)
        throws ConfigException
    {
        configure(network, next, System.nanoTime());
    }

    /** As {@link #configure(ServiceNetworkConfig, List)}, at {@code now} ({@link System#nanoTime()}; tests). */
    synchronized void configure(final ServiceNetworkConfig network, final List<ServiceConfig> next, final long now)
        throws ConfigException
    {
        final int[] serviceIds = new int[next.size()];
        final Map<String, ServiceConfig> previous = new HashMap<>();
        services.forEach(service -> previous.put(service.name(), service));
        for (int i = 0; i < next.size(); i++)
        {
            final ServiceConfig service = next.get(i);
            final Integer id = ids.get(service.name());
            if (id == null)
            {
                serviceIds[i] = versions.size();
                ids.put(service.name(), serviceIds[i]);
                versions.add(0);
            }
            else
            {
                serviceIds[i] = id;
            }
            if (id != null && previous.get(service.name()) == service)
            {
                continue; // the very same record as before: same backends, same version
            }
            // Each backend and whether it is ready: a change of either moves the version (a flow re-checks its
            // backend: kept while listed, ended when gone).
            final Map<Integer, Boolean> backends = new HashMap<>();
            service.backends().forEach(b -> backends.merge(b.ip(), b.ready(), Boolean::logicalOr));
            if (!Objects.equals(backendSets.put(service.name(), backends), backends) && id != null)
            {
                versions.set(serviceIds[i], versions.get(serviceIds[i]) + 1);
            }
        }
        // A service that goes: its sessions must not outlive it (its version moves and it has no backends left, so
        // the worker ends each session at its next packet).
        final Set<String> kept = new HashSet<>();
        next.forEach(service -> kept.add(service.name()));
        for (final Map.Entry<String, Integer> id : ids.entrySet())
        {
            if (!kept.contains(id.getKey()) && backendSets.remove(id.getKey()) != null)
            {
                versions.set(id.getValue(), versions.get(id.getValue()) + 1);
            }
        }
        moveVips(next);
        final int[] v = versions.stream().mapToInt(Integer::intValue).toArray();
        table = new ServiceTable(network, next, serviceIds, v, versions.size(), ports,
            network != null ? network.maglevTableSize() : maglevSize, table, indexBackends, now);
        this.services = List.copyOf(next);
    }

    private void moveVips(final List<ServiceConfig> next) throws ConfigException
    {
        final Map<Integer, Integer> wanted = new HashMap<>();
        for (final ServiceConfig service : next)
        {
            if (service.loadBalancerIp() != 0)
            {
                final int port = ports.connectedPortFor(service.loadBalancerIp());
                if (port >= 0)
                {
                    wanted.put(service.loadBalancerIp(), port);
                }
            }
        }
        for (final Map.Entry<Integer, Integer> held : new ArrayList<>(heldVips.entrySet()))
        {
            if (!held.getValue().equals(wanted.get(held.getKey())))
            {
                routes.removeAddress(held.getValue(), held.getKey());
                heldVips.remove(held.getKey());
            }
        }
        for (final Map.Entry<Integer, Integer> vip : wanted.entrySet())
        {
            if (!heldVips.containsKey(vip.getKey()))
            {
                try
                {
                    routes.addAddress(vip.getValue(), vip.getKey());
                }
                catch (final RouteException ex)
                {
                    throw new ConfigException("loadBalancerIP", "loadBalancerIP: " + ex.getMessage());
                }
                heldVips.put(vip.getKey(), vip.getValue());
                announcements.add((long)vip.getValue() << 32 | vip.getKey() & 0xFFFF_FFFFL);
            }
        }
    }
}
