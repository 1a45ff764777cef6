package io.edgeplane.control.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.Json;
import io.edgeplane.config.ServiceConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ControlService;
import io.edgeplane.control.resource.ServiceResource;
import io.edgeplane.proto.Ipv4Address;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The gateway's Kubernetes side, as kube-proxy, MetalLB and Flannel are for a node: informers (list + watch, with
 * bookmarks, relisting after a 410 and retrying with backoff, all fabric8's) keep caches of Services,
 * EndpointSlices and Nodes; one reconcile thread turns the caches into Edgeplane records ({@link KubernetesModel})
 * and applies the difference from what it applied last through the {@link ControlService} (the same validation and
 * make-before-break as the API, but not journaled: the API server is the source, relisted at every start).
 * <ul>
 *   <li>Nothing is applied before all three caches have synced once, so a service never appears without its
 *       endpoints; a service and its endpoints are one record, applied in one step; all changes of a pass are one
 *       batch, and only when the batch is refused (a bad object) are they applied one by one so that the bad one is
 *       skipped, counted and logged while the rest go in.</li>
 *   <li>Records the operator configured (config file, journal, API) win: a learned record with the same key is
 *       skipped ({@code conflict}).</li>
 *   <li>When the API server goes away the informers retry and the dataplane keeps what it has; when it returns they
 *       relist and the next pass converges.</li>
 *   <li>LoadBalancer addresses: one gateway, the holder of the {@code edgeplane-lb-allocator} Lease, allocates an
 *       address from {@code externalServiceIPs} for a LoadBalancer service that has none and writes it to the
 *       Service's {@code status.loadBalancer.ingress}; every gateway serves it once it is there.</li>
 * </ul>
 */
public final class KubernetesSync implements AutoCloseable
{
    private static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int MAX_SKIPS_SHOWN = 100;
    /** The informers' resync: every cached object is delivered again, so a full pass runs at least this often. */
    private static final long RESYNC_MILLIS = TimeUnit.MINUTES.toMillis(5);

    /** Settings from the command line. */
    public record Settings(String node, String tunnel, String leaseNamespace, int tunnelVni, String tunnelMac,
        String tunnelUnderlayAddress)
    {
    }

    private final KubernetesClient client;
    private final ControlService control;
    private final ServiceResource serviceResource;
    private final Settings settings;
    private final SharedIndexInformer<Service> services;
    private final SharedIndexInformer<EndpointSlice> slices;
    private final SharedIndexInformer<Node> nodes;
    private final Thread thread;
    private final AtomicBoolean dirty = new AtomicBoolean(true);
    private volatile boolean running = true;
    private volatile boolean leader;
    private volatile String leaderIdentity;
    private volatile CompletableFuture<?> election;

    private final Map<String, ObjectNode> appliedServices = new HashMap<>();
    private final Map<String, ObjectNode> appliedRoutes = new HashMap<>();
    private final Map<String, ObjectNode> appliedNeighbors = new HashMap<>();
    /** Per node name, the records its last good version gave. */
    private final Map<String, KubernetesModel.NodeRecords> goodNodes = new HashMap<>();
    /** LoadBalancer addresses allocated here whose status write failed (retried every second while leader). */
    private final Map<String, String> pending = new java.util.concurrent.ConcurrentHashMap<>();
    /** Translation cache: service id → (fingerprint of the objects it came from, result). */
    private final Map<String, Cached> translated = new HashMap<>();

    // What GET /v1/kubernetes shows (written by the reconcile thread or informer threads, read by the API).
    private volatile Map<String, KubernetesModel.Skip> skips = Map.of();
    private final Map<String, Long> skipCounts = new TreeMap<>();
    private volatile long syncs;
    private volatile long lastSyncMillis = -1;
    private volatile long lastSyncDurationMicros;
    private volatile long lastChangeMicros;
    private volatile long lastTranslateMicros;
    private volatile long errors;
    private volatile String lastError;
    private volatile long statusWrites;

    private record Cached(String fingerprint, KubernetesModel.Result result)
    {
    }

    public KubernetesSync(final KubernetesClient client, final ControlService control,
        final ServiceResource serviceResource, final Settings settings)
    {
        this.client = client;
        this.control = control;
        this.serviceResource = serviceResource;
        this.settings = settings;
        services = client.services().inAnyNamespace().runnableInformer(RESYNC_MILLIS);
        slices = client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(RESYNC_MILLIS);
        nodes = client.nodes().runnableInformer(RESYNC_MILLIS);
        for (final SharedIndexInformer<? extends HasMetadata> informer : List.of(services, slices, nodes))
        {
            informer.exceptionHandler((started, error) ->
            {
                recordError(informer.getApiTypeClass().getSimpleName() + ": " + error.getMessage());
                return true; // keep retrying (with the informer's backoff); the dataplane keeps what it has
            });
        }
        services.addEventHandler(new Dirty<>());
        slices.addEventHandler(new Dirty<>());
        nodes.addEventHandler(new Dirty<>());
        thread = new Thread(this::run, "edgeplane-kubernetes");
        thread.setDaemon(true);
    }

    /** Start the informers, the leader election and the reconcile thread (returns at once). */
    public void start()
    {
        services.start();
        slices.start();
        nodes.start();
        elect();
        thread.start();
    }

    private void elect()
    {
        if (!running)
        {
            return;
        }
        final var config = new LeaderElectionConfigBuilder().withName("edgeplane-lb-allocator")
            .withLock(new LeaseLock(settings.leaseNamespace(), "edgeplane-lb-allocator", settings.node()))
            .withLeaseDuration(Duration.ofSeconds(15)).withRenewDeadline(Duration.ofSeconds(10))
            .withRetryPeriod(Duration.ofSeconds(2)).withReleaseOnCancel()
            .withLeaderCallbacks(new LeaderCallbacks(
                () ->
                {
                    leader = true;
                    markDirty();
                },
                () ->
                {
                    leader = false;
                    markDirty();
                },
                identity -> leaderIdentity = identity))
            .build();
        final CompletableFuture<?> future = client.leaderElector().withConfig(config).build().start();
        election = future;
        // The elector returns when leadership is lost (or on an error): stand again while running.
        future.whenComplete((ignored, error) ->
        {
            leader = false;
            if (running)
            {
                CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS).execute(this::elect);
            }
        });
    }

    private final class Dirty<T> implements ResourceEventHandler<T>
    {
        @Override
        public void onAdd(final T obj)
        {
            markDirty();
        }

        @Override
        public void onUpdate(final T oldObj, final T newObj)
        {
            markDirty();
        }

        @Override
        public void onDelete(final T obj, final boolean deletedFinalStateUnknown)
        {
            markDirty();
        }
    }

    private void markDirty()
    {
        dirty.set(true);
        LockSupport.unpark(thread);
    }

    private void recordError(final String message)
    {
        synchronized (skipCounts)
        {
            errors++;
        }
        lastError = Instant.now() + " " + message;
        System.err.println("edgeplane: kubernetes: " + message);
    }

    private void run()
    {
        while (running)
        {
            noteConnection();
            if (!dirty.getAndSet(false))
            {
                LockSupport.parkNanos(PERIOD_NANOS);
                if (!dirty.getAndSet(false) && !pendingStatus())
                {
                    continue;
                }
            }
            if (!(services.hasSynced() && slices.hasSynced() && nodes.hasSynced()))
            {
                dirty.set(true); // nothing is applied from a half-listed cache
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                continue;
            }
            try
            {
                reconcile();
            }
            catch (final RuntimeException ex)
            {
                recordError("reconcile: " + ex);
                LockSupport.parkNanos(PERIOD_NANOS);
                dirty.set(true);
            }
        }
    }

    private boolean everConnected;
    private long disconnectedSince;
    private boolean outage;

    /**
     * Count an outage when the watches stay down for a second (they reconnect by themselves, with backoff, and may
     * blink between watch restarts). Called by the reconcile thread and API readers: whoever looks first.
     */
    private synchronized boolean noteConnection()
    {
        final boolean connected = services.isWatching() && slices.isWatching() && nodes.isWatching();
        final long now = System.nanoTime();
        if (connected)
        {
            everConnected = true;
            disconnectedSince = 0;
            if (outage)
            {
                outage = false;
                System.err.println("edgeplane: kubernetes: watching the API server again");
            }
        }
        else if (disconnectedSince == 0)
        {
            disconnectedSince = now;
        }
        else if (everConnected && !outage && now - disconnectedSince > TimeUnit.SECONDS.toNanos(1))
        {
            outage = true;
            recordError("lost the watch on the API server; retrying with backoff, forwarding with what is known");
        }
        return connected;
    }

    /** A LoadBalancer address allocated here and not yet in the Service's status (the leader retries). */
    private boolean pendingStatus()
    {
        return leader && !pending.isEmpty();
    }

    private void reconcile()
    {
        final long start = System.nanoTime();
        final Map<String, KubernetesModel.Skip> skipped = new LinkedHashMap<>();
        final boolean allocate = leader;
        final Map<String, List<EndpointSlice>> byService = KubernetesModel.slicesByService(slices.getStore().list());
        final Map<String, ObjectNode> wanted = new TreeMap<>();
        final Map<String, Service> sources = new HashMap<>();
        final Map<String, Cached> seen = new HashMap<>();
        for (final Service service : services.getStore().list())
        {
            final String id = KubernetesModel.id(service);
            final List<EndpointSlice> mine = byService.getOrDefault(id, List.of());
            final String fingerprint = fingerprint(service, mine, allocate);
            Cached cached = translated.get(id);
            if (cached == null || !cached.fingerprint().equals(fingerprint) || fingerprint.isEmpty())
            {
                cached = new Cached(fingerprint, KubernetesModel.service(service, mine, allocate));
            }
            seen.put(id, cached);
            final KubernetesModel.Result result = cached.result();
            if (result.skip() != null)
            {
                skipped.put("Service " + id, result.skip());
                // A good version applied before keeps serving until the object is fixed or deleted.
                final String name = KubernetesModel.serviceName(service.getMetadata().getNamespace(),
                    service.getMetadata().getName());
                final ObjectNode previous = appliedServices.get(name);
                if (previous != null)
                {
                    wanted.put(name, previous);
                    sources.put(name, service);
                }
            }
            else if (result.record() != null)
            {
                final String name = result.record().get("name").asText();
                wanted.put(name, result.record());
                sources.put(name, service);
            }
        }
        translated.clear();
        translated.putAll(seen);
        lastTranslateMicros = (System.nanoTime() - start) / 1000;
        apply("services", wanted, appliedServices, record -> KubernetesModel.key(record, "name"), skipped);

        if (settings.tunnel() != null)
        {
            final Map<String, ObjectNode> routes = new TreeMap<>();
            final Map<String, ObjectNode> neighbors = new TreeMap<>();
            final Map<String, KubernetesModel.NodeRecords> good = new HashMap<>();
            for (final Node node : nodes.getStore().list())
            {
                if (node.getMetadata().getName().equals(settings.node()))
                {
                    publishOurNode(node);
                    continue;
                }
                final KubernetesModel.NodeResult result = KubernetesModel.node(node, settings.tunnel());
                KubernetesModel.NodeRecords records = result.records();
                if (result.skip() != null)
                {
                    skipped.put("Node " + node.getMetadata().getName(), result.skip());
                    records = goodNodes.get(node.getMetadata().getName()); // the last good version stays
                }
                if (records != null)
                {
                    routes.put(records.route().get("prefix").asText(), records.route());
                    neighbors.put(records.neighbor().get("ip").asText(), records.neighbor());
                    good.put(node.getMetadata().getName(), records);
                }
            }
            // A neighbor before the route that uses it, the route gone before its neighbor.
            final Map<String, ObjectNode> keptNeighbors = new TreeMap<>(neighbors);
            appliedNeighbors.keySet().forEach(key -> keptNeighbors.putIfAbsent(key, appliedNeighbors.get(key)));
            apply("neighbors", keptNeighbors, appliedNeighbors, record -> KubernetesModel.key(record, "interface",
                "ip"), skipped);
            apply("routes", routes, appliedRoutes, record -> KubernetesModel.key(record, "interface", "prefix"),
                skipped);
            apply("neighbors", neighbors, appliedNeighbors, record -> KubernetesModel.key(record, "interface",
                "ip"), skipped);
            goodNodes.clear();
            goodNodes.putAll(good);
        }

        if (allocate)
        {
            publishAddresses(sources);
        }
        noteSkips(skipped);
        syncs++;
        lastSyncMillis = System.currentTimeMillis();
        lastSyncDurationMicros = (System.nanoTime() - start) / 1000;
    }

    private static String fingerprint(final Service service, final List<EndpointSlice> slices, final boolean allocate)
    {
        final StringBuilder out = new StringBuilder();
        if (service.getMetadata().getResourceVersion() == null)
        {
            return "";
        }
        out.append(service.getMetadata().getResourceVersion()).append(allocate ? "+" : "-");
        for (final EndpointSlice slice : slices)
        {
            if (slice.getMetadata().getResourceVersion() == null)
            {
                return "";
            }
            out.append(slice.getMetadata().getName()).append('@').append(slice.getMetadata().getResourceVersion())
                .append(',');
        }
        return out.toString();
    }

    /**
     * Bring one resource's learned records to {@code wanted}: one batch, and only if the batch is refused, one
     * record at a time (a refused record is skipped; if it was applied before, its previous version stays).
     */
    private void apply(final String resource, final Map<String, ObjectNode> wanted, final Map<String, ObjectNode> applied,
        final java.util.function.Function<ObjectNode, JsonNode> keyOf, final Map<String, KubernetesModel.Skip> skipped)
    {
        final List<JsonNode> upserts = new ArrayList<>();
        final List<String> upsertNames = new ArrayList<>();
        wanted.forEach((name, record) ->
        {
            if (!record.equals(applied.get(name)))
            {
                upserts.add(record);
                upsertNames.add(name);
            }
        });
        final List<JsonNode> removals = new ArrayList<>();
        final List<String> removalNames = new ArrayList<>();
        applied.forEach((name, record) ->
        {
            if (!wanted.containsKey(name))
            {
                removals.add(keyOf.apply(record));
                removalNames.add(name);
            }
        });
        if (upserts.isEmpty() && removals.isEmpty())
        {
            return;
        }
        final long start = System.nanoTime();
        try
        {
            control.learn(resource, upserts, removals);
            removalNames.forEach(applied::remove);
            for (int i = 0; i < upserts.size(); i++)
            {
                applied.put(upsertNames.get(i), (ObjectNode)upserts.get(i));
            }
        }
        catch (final ApiException batch)
        {
            for (int i = 0; i < removals.size(); i++)
            {
                try
                {
                    control.learn(resource, List.of(), List.of(removals.get(i)));
                    applied.remove(removalNames.get(i));
                }
                catch (final ApiException ex)
                {
                    skipped.put(resource + " " + removalNames.get(i), new KubernetesModel.Skip(resource,
                        removalNames.get(i), "rejected", "could not remove: " + ex.getMessage()));
                }
            }
            for (int i = 0; i < upserts.size(); i++)
            {
                try
                {
                    control.learn(resource, List.of(upserts.get(i)), List.of());
                    applied.put(upsertNames.get(i), (ObjectNode)upserts.get(i));
                }
                catch (final ApiException ex)
                {
                    skipped.put(resource + " " + upsertNames.get(i), new KubernetesModel.Skip(resource,
                        upsertNames.get(i), ex.status() == 409 && ex.getMessage().contains("operator") ? "conflict" :
                        "rejected", ex.getMessage()));
                }
            }
        }
        lastChangeMicros = (System.nanoTime() - start) / 1000;
    }

    /** The leader writes each allocated LoadBalancer address to its Service's status. */
    private void publishAddresses(final Map<String, Service> sources)
    {
        pending.clear();
        for (final Map.Entry<String, Service> entry : sources.entrySet())
        {
            final Service service = entry.getValue();
            if (!"LoadBalancer".equals(service.getSpec().getType()))
            {
                continue;
            }
            final ServiceConfig applied = serviceResource.find(entry.getKey());
            if (applied == null || applied.loadBalancerIp() == 0)
            {
                continue;
            }
            final String ip = Ipv4Address.format(applied.loadBalancerIp());
            if (ip.equals(KubernetesModel.loadBalancerAddress(service)))
            {
                continue;
            }
            try
            {
                client.services().inNamespace(service.getMetadata().getNamespace())
                    .withName(service.getMetadata().getName())
                    .editStatus(s -> new ServiceBuilder(s).editOrNewStatus().editOrNewLoadBalancer()
                        .withIngress(new LoadBalancerIngressBuilder().withIp(ip).withIpMode("VIP").build())
                        .endLoadBalancer().endStatus().build());
                statusWrites++;
            }
            catch (final RuntimeException ex)
            {
                pending.put(entry.getKey(), ip);
                recordError("status of Service " + KubernetesModel.id(service) + ": " + ex.getMessage());
            }
        }
    }

    /** Our node's Flannel annotations, so that other nodes (Flannel or Edgeplane) reach our pods. */
    private void publishOurNode(final Node node)
    {
        if (settings.tunnelMac() == null || settings.tunnelUnderlayAddress() == null)
        {
            return;
        }
        final Map<String, String> wanted = KubernetesModel.flannelAnnotations(settings.tunnelVni(),
            settings.tunnelMac(), settings.tunnelUnderlayAddress());
        final Map<String, String> have = node.getMetadata().getAnnotations() == null ? Map.of() :
            node.getMetadata().getAnnotations();
        if (wanted.entrySet().stream().allMatch(e -> e.getValue().equals(have.get(e.getKey()))))
        {
            return;
        }
        try
        {
            client.nodes().withName(node.getMetadata().getName()).edit(n ->
            {
                n.getMetadata().setAnnotations(new LinkedHashMap<>(n.getMetadata().getAnnotations() == null ?
                    Map.of() : n.getMetadata().getAnnotations()));
                n.getMetadata().getAnnotations().putAll(wanted);
                return n;
            });
        }
        catch (final RuntimeException ex)
        {
            recordError("annotations of Node " + node.getMetadata().getName() + ": " + ex.getMessage());
        }
    }

    private void noteSkips(final Map<String, KubernetesModel.Skip> skipped)
    {
        final Map<String, KubernetesModel.Skip> before = skips;
        synchronized (skipCounts)
        {
            for (final Map.Entry<String, KubernetesModel.Skip> entry : skipped.entrySet())
            {
                if (!Objects.equals(before.get(entry.getKey()), entry.getValue()))
                {
                    skipCounts.merge(entry.getValue().reason(), 1L, Long::sum);
                    System.err.println("edgeplane: kubernetes: skipped " + entry.getValue());
                }
            }
        }
        skips = skipped;
    }

    /** True once every cache has synced and one pass has applied it. */
    public boolean synced()
    {
        return syncs > 0;
    }

    /** {@code GET /v1/kubernetes}. */
    public ObjectNode view()
    {
        final ObjectNode out = Json.STRICT.createObjectNode();
        out.put("connected", noteConnection());
        out.put("synced", synced());
        out.put("node", settings.node());
        out.put("leader", leader);
        out.put("leaderIdentity", leaderIdentity);
        out.put("lastSync", lastSyncMillis < 0 ? null : Instant.ofEpochMilli(lastSyncMillis).toString());
        out.put("syncs", syncs);
        out.put("lastSyncMicros", lastSyncDurationMicros);
        out.put("lastTranslateMicros", lastTranslateMicros);
        out.put("lastApplyMicros", lastChangeMicros);
        final ObjectNode resources = out.putObject("resources");
        resource(resources, "services", services);
        resource(resources, "endpointslices", slices);
        resource(resources, "nodes", nodes);
        final ObjectNode learned = out.putObject("learned");
        for (final String name : List.of("services", "routes", "neighbors"))
        {
            learned.put(name, control.learnedCount(name));
        }
        out.put("statusWrites", statusWrites);
        final var shown = out.putArray("skipped");
        skips.values().stream().limit(MAX_SKIPS_SHOWN).forEach(skip -> shown.addObject().put("kind", skip.kind())
            .put("object", skip.object()).put("reason", skip.reason()).put("detail", skip.detail()));
        synchronized (skipCounts)
        {
            final ObjectNode counts = out.putObject("skipCounts");
            skipCounts.forEach(counts::put);
            out.put("errors", errors);
        }
        out.put("lastError", lastError);
        return out;
    }

    private static void resource(final ObjectNode out, final String name, final SharedIndexInformer<?> informer)
    {
        out.putObject(name).put("watching", informer.isWatching()).put("synced", informer.hasSynced())
            .put("resourceVersion", informer.lastSyncResourceVersion()).put("objects", informer.getStore().list().size());
    }

    /** Lines for {@code /metrics}. */
    public void metrics(final StringBuilder out)
    {
        final ObjectNode view = view();
        out.append("# HELP edgeplane_kubernetes_connected 1 while every watch on the API server is open.\n");
        out.append("# TYPE edgeplane_kubernetes_connected gauge\n");
        out.append("edgeplane_kubernetes_connected ").append(view.get("connected").asBoolean() ? 1 : 0).append('\n');
        out.append("# HELP edgeplane_kubernetes_leader 1 while this gateway allocates LoadBalancer addresses.\n");
        out.append("# TYPE edgeplane_kubernetes_leader gauge\n");
        out.append("edgeplane_kubernetes_leader ").append(leader ? 1 : 0).append('\n');
        out.append("# HELP edgeplane_kubernetes_objects Objects in the watch caches.\n");
        out.append("# TYPE edgeplane_kubernetes_objects gauge\n");
        view.get("resources").fields().forEachRemaining(e -> out.append("edgeplane_kubernetes_objects{resource=\"")
            .append(e.getKey()).append("\"} ").append(e.getValue().get("objects").asLong()).append('\n'));
        out.append("# HELP edgeplane_kubernetes_learned Records applied from Kubernetes.\n");
        out.append("# TYPE edgeplane_kubernetes_learned gauge\n");
        view.get("learned").fields().forEachRemaining(e -> out.append("edgeplane_kubernetes_learned{resource=\"")
            .append(e.getKey()).append("\"} ").append(e.getValue().asLong()).append('\n'));
        out.append("# HELP edgeplane_kubernetes_skipped_total Objects skipped, by reason.\n");
        out.append("# TYPE edgeplane_kubernetes_skipped_total counter\n");
        view.get("skipCounts").fields().forEachRemaining(e -> out.append("edgeplane_kubernetes_skipped_total{reason=\"")
            .append(e.getKey()).append("\"} ").append(e.getValue().asLong()).append('\n'));
        out.append("# HELP edgeplane_kubernetes_syncs_total Reconcile passes.\n");
        out.append("# TYPE edgeplane_kubernetes_syncs_total counter\n");
        out.append("edgeplane_kubernetes_syncs_total ").append(syncs).append('\n');
        out.append("# HELP edgeplane_kubernetes_errors_total API server errors (watches, status writes).\n");
        out.append("# TYPE edgeplane_kubernetes_errors_total counter\n");
        out.append("edgeplane_kubernetes_errors_total ").append(view.get("errors").asLong()).append('\n');
    }

    @Override
    public void close()
    {
        running = false;
        LockSupport.unpark(thread);
        final CompletableFuture<?> current = election;
        if (current != null)
        {
            current.cancel(true);
        }
        services.close();
        slices.close();
        nodes.close();
        try
        {
            thread.join(5000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        client.close();
    }
}
