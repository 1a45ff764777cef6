package io.edgeplane.control.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.control.api.ApiServer;
import io.edgeplane.control.api.ControlService;
import io.edgeplane.control.api.StatusService;
import io.edgeplane.control.resource.NatResource;
import io.edgeplane.control.resource.NeighborResource;
import io.edgeplane.control.resource.ServiceResource;
import io.edgeplane.control.resource.PortResource;
import io.edgeplane.control.resource.RouteResource;
import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.control.state.StateStore;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.FeatureArc;
import io.edgeplane.stage.Workers;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CountedErrorHandler;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The gateway process: live ports, run-to-completion workers (Agrona agents, one thread each; {@code workers} in the
 * config, by default one per core minus one), the control API and the persisted state. Start order: ports (fail fast on a bad device), state restore (persisted state wins over the
 * config file's routes, neighbors and admin states; the config file always gives the ports), worker, API.
 * Frames arriving meanwhile wait in the kernel's ring.
 */
public final class Gateway implements AutoCloseable
{
    private final Dataplane dataplane;
    private final Workers workers;
    /** Per worker, per port: the worker's own socket on the port's device (several join one fanout group). */
    private final PortIo[][] livePorts;
    private final AgentRunner[] runners;
    private final ApiServer api;
    private final StateStore store;
    private final ControlService control;
    private final StatusService status;
    private final Path stateDirectory;
    private final AtomicReferenceArray<PortIo> replacements;
    private final int[] fanoutGroups;
    /** Environment variable fixing the source-address spread's multiplier (reproducible runs). */
    public static final String SPREAD_MULTIPLIER_ENV = "EDGEPLANE_SPREAD_MULTIPLIER";
    private final DeviceMonitor monitor;
    private ServiceResource serviceResource;
    private volatile io.edgeplane.control.kubernetes.KubernetesSync kubernetes;

    /** How ports reach their Linux interfaces. */
    public enum Io
    {
        /** AF_PACKET sockets, a burst per system call, zero-copy receive into the pool (Linux). */
        AFPACKET,
        /** pcap4j live handles (portable, one JNA call per frame). */
        PCAP,
        /** No devices: frames are neither read nor sent; the control plane alone (tests, rehearsals). */
        NONE
    }

    public Gateway(final DataplaneConfig config, final Path stateDirectory, final InetSocketAddress apiAddress,
        final String token, final Io io) throws GatewayException
    {
        this(config, stateDirectory, apiAddress, token, io, false);
    }

    /**
     * @param salvageJournal start from the good records of a damaged journal (moved aside) instead of refusing.
     */
    public Gateway(final DataplaneConfig config, final Path stateDirectory, final InetSocketAddress apiAddress,
        final String token, final Io io, final boolean salvageJournal) throws GatewayException
    {
        try
        {
            ApiServer.checkToken(apiAddress, token);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new GatewayException("--" + ex.getMessage());
        }
        this.stateDirectory = stateDirectory;
        final PortTable ports = new PortTable(config.ports());
        final int count = config.workersOr(defaultWorkers());
        if (io == Io.PCAP && count > 1)
        {
            throw new GatewayException("workers: " + count + " workers need --io afpacket (its fanout groups spread " +
                "frames over workers; libpcap has none); set \"workers\": 1 to use --io pcap");
        }
        final java.security.SecureRandom random = new java.security.SecureRandom();
        // The spread's multiplier is drawn at start, so a sender cannot aim its flows at one worker; a measurement
        // or a test that needs the same spread every run names it in EDGEPLANE_SPREAD_MULTIPLIER.
        final String fixed = System.getenv(SPREAD_MULTIPLIER_ENV);
        final int multiplier;
        try
        {
            multiplier = (fixed != null ? Integer.parseUnsignedInt(fixed.strip()) : random.nextInt()) | 1;
        }
        catch (final NumberFormatException ex)
        {
            throw new GatewayException(SPREAD_MULTIPLIER_ENV + ": " + fixed + " is not an unsigned 32-bit number");
        }
        fanoutGroups = new int[ports.count()];
        livePorts = new PortIo[count][ports.count()];
        if (io != Io.NONE)
        {
            for (int i = 0; i < ports.count(); i++)
            {
                if (ports.isTunnel(i))
                {
                    continue; // a tunnel sends and receives through its underlay port
                }
                if (ports.device(i) == null)
                {
                    closePorts();
                    throw new GatewayException("ports[" + i + "].device: missing (gateway mode binds every port " +
                        "to a Linux interface)");
                }
                if (io == Io.AFPACKET && ports.vlan(i) != 0)
                {
                    closePorts();
                    throw new GatewayException("ports[" + i + "].vlan: AF_PACKET sockets do not see 802.1Q tags " +
                        "(the kernel moves them to metadata); use --io pcap for VLAN ports");
                }
                fanoutGroups[i] = random.nextInt(0x10000);
                try
                {
                    final PortIo[] opened = open(io, ports, i, count, fanoutGroups[i], multiplier);
                    for (int w = 0; w < count; w++)
                    {
                        livePorts[w][i] = opened[w];
                    }
                }
                catch (final GatewayException ex)
                {
                    closePorts();
                    throw ex;
                }
            }
        }
        try
        {
            workers = new Workers(config, count, multiplier, Dataplane.DEFAULT_POOL_SLOTS, ports, null,
                worker -> (port, from, h) ->
                {
                    final PortIo live = livePorts[worker][port];
                    if (live != null)
                    {
                        live.send(from, h);
                    }
                },
                DropSink.NONE, List.of());
            dataplane = workers.first();
        }
        catch (final ConfigException ex)
        {
            closePorts();
            throw new GatewayException(ex.getMessage());
        }
        final List<Dataplane> all = new java.util.ArrayList<>();
        for (int w = 0; w < count; w++)
        {
            all.add(workers.get(w));
            for (final PortIo live : livePorts[w])
            {
                if (live != null)
                {
                    live.attach(workers.get(w));
                }
            }
        }
        final WorkerProxy commands = new WorkerProxy(all);
        replacements = new AtomicReferenceArray<>(count * ports.count());
        final AtomicLongArray portStats = new AtomicLongArray(2 * ports.count());
        runners = new AgentRunner[count];
        for (int w = 0; w < count; w++)
        {
            // A worker error is counted (worker-errors, in /v1/counters and /metrics) and logged in one line; the
            // agent keeps running.
            final AtomicCounter workerErrors = workers.get(w).counters().event("worker-errors");
            final String name = count == 1 ? "worker" : "worker " + w;
            final ErrorHandler log = error -> System.err.println("edgeplane: " + name + " error: " + error);
            runners[w] = new AgentRunner(new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1),
                TimeUnit.MILLISECONDS.toNanos(1)), new CountedErrorHandler(log, workerErrors), null,
                new GatewayAgent(workers.get(w), livePorts[w], commands, portStats, replacements));
        }

        try
        {
            store = new StateStore(stateDirectory);
            control = new ControlService(List.of(
                new PortResource(config.ports(), ports, dataplane.routes(), workers.counters(), portStats,
                    this::link, dataplane.arc(FeatureArc.IP4_UNICAST), commands),
                new RouteResource(ports, dataplane.routes()),
                new NeighborResource(ports, commands, config.neighbors()),
                new NatResource(dataplane.nat(), ports, commands),
                serviceResource = new ServiceResource(dataplane, ports, config.serviceNetwork(), config.services(),
                    config.flowHashSeed())), store,
                config.flowHashSeed());
            status = new StatusService(workers.counters(), commands, dataplane.graph());
            final StateStore.Recovered recovered = store.recover(salvageJournal);
            // Restored before the worker starts: forwarding begins with the persisted state, never a mix.
            control.restore(recovered.snapshot(), recovered.ops());
            store.open(control.runningConfig());
        }
        catch (final IOException | ConfigException ex)
        {
            closeRunners();
            closePorts();
            throw new GatewayException("state " + stateDirectory + ": " + ex.getMessage());
        }
        commands.workerStarted();
        for (final AgentRunner runner : runners)
        {
            AgentRunner.startOnThread(runner);
        }
        if (io != Io.NONE)
        {
            // A device that comes back gets a new fanout group: its sockets join in worker order, as the kernel
            // indexes members by join order.
            monitor = new DeviceMonitor(ports, dataplane.routes(), replacements, count,
                i -> open(io, ports, i, count, fanoutGroups[i] = fanoutGroups[i] + 1 & 0xFFFF, multiplier));
            final Thread thread = new Thread(monitor, "edgeplane-devices");
            thread.setDaemon(true);
            thread.start();
        }
        else
        {
            monitor = null;
        }
        try
        {
            api = new ApiServer(apiAddress, token, control, status);
        }
        catch (final IOException ex)
        {
            closeQuietly();
            throw new GatewayException("--api: " + ex.getMessage());
        }
    }

    private void closeQuietly()
    {
        if (monitor != null)
        {
            monitor.stop();
        }
        closeRunners();
        closePorts();
        try
        {
            store.close();
        }
        catch (final IOException ignored)
        {
            // Nothing was changed through this store yet.
        }
    }

    public int apiPort()
    {
        return api.port();
    }

    public ControlService control()
    {
        return control;
    }

    public StatusService status()
    {
        return status;
    }

    public Dataplane dataplane()
    {
        return dataplane;
    }

    private void closePorts()
    {
        for (final PortIo[] worker : livePorts)
        {
            for (final PortIo live : worker)
            {
                if (live != null)
                {
                    live.close();
                }
            }
        }
    }

    private void closeRunners()
    {
        for (final AgentRunner runner : runners)
        {
            if (runner != null)
            {
                runner.close();
            }
        }
    }

    /** The gateway's default: one worker per available core minus one (the API, the kernel's receive), at least one. */
    public static int defaultWorkers()
    {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    public Workers workers()
    {
        return workers;
    }

    /** One socket per worker on port {@code i}'s device, in worker order (several: one fanout group). */
    private static PortIo[] open(final Io io, final PortTable ports, final int i, final int count, final int group,
        final int multiplier) throws GatewayException
    {
        final PortIo[] opened = new PortIo[count];
        try
        {
            for (int w = 0; w < count; w++)
            {
                opened[w] = io == Io.PCAP ? new PcapPort(i, ports.name(i), ports.device(i), ports.configuredMtu(i)) :
                    new AfPacketPort(i, ports.name(i), ports.device(i), ports.configuredMtu(i),
                        count > 1 ? new AfPacketPort.Fanout(group, multiplier) : null);
            }
        }
        catch (final GatewayException ex)
        {
            for (final PortIo port : opened)
            {
                if (port != null)
                {
                    port.close();
                }
            }
            throw ex;
        }
        return opened;
    }

    /** The device monitor's view of a port's link (up, down, missing), or "n/a" without devices. */
    public String link(final int port)
    {
        return monitor == null ? "n/a" : monitor.link(port);
    }

    /**
     * Learn services, endpoints and nodes from the Kubernetes API server (after the state is restored and the API is
     * open; returns at once, the first sync follows in the background).
     */
    public void startKubernetes(final io.fabric8.kubernetes.client.Config clientConfig,
        final io.edgeplane.control.kubernetes.KubernetesSync.Settings settings)
    {
        final var client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(clientConfig).build();
        final var sync = new io.edgeplane.control.kubernetes.KubernetesSync(client, control, serviceResource,
            settings);
        kubernetes = sync;
        status.kubernetes(new StatusService.Extension()
        {
            @Override
            public com.fasterxml.jackson.databind.JsonNode view()
            {
                return sync.view();
            }

            @Override
            public void metrics(final StringBuilder out)
            {
                sync.metrics(out);
            }
        });
        sync.start();
    }

    /** Graceful stop: API first, then the worker, then ports; state is already durable, counters are written. */
    @Override
    public void close()
    {
        api.close();
        final var sync = kubernetes;
        if (sync != null)
        {
            sync.close();
        }
        if (monitor != null)
        {
            monitor.stop();
        }
        closeRunners();
        for (int i = 0; i < replacements.length(); i++)
        {
            final PortIo pending = replacements.getAndSet(i, null);
            if (pending != null)
            {
                pending.close();
            }
        }
        closePorts();
        try
        {
            store.compact(control.runningConfig());
            store.close();
            final Path counters = stateDirectory.resolve("counters.json");
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(counters.toFile(), status.counters());
            StateStore.restrict(counters, StateStore.FILE_MODE);
        }
        catch (final IOException ex)
        {
            System.err.println("edgeplane: warning: could not write final state: " + ex.getMessage());
        }
    }
}
