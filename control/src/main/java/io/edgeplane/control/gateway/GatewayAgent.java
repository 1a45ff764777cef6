package io.edgeplane.control.gateway;

import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.stage.Dataplane;
import org.agrona.concurrent.Agent;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The run-to-completion worker, with Aeron's duty cycle: timers on the cached clock first, then control commands
 * (bounded), then what other workers handed over (bounded), then a burst from every port; the vector is flushed through the pipeline and every port's staged
 * transmissions are sent. One thread, one dataplane, no locks. Every 100 ms it publishes the kernel's capture drop
 * counts (pcap_stats) for the control plane.
 */
final class GatewayAgent implements Agent
{
    private final Dataplane dataplane;
    private final PortIo[] ports;
    private static final long STATS_INTERVAL_NANOS = 100_000_000L;
    /** Messages taken from each other worker per duty cycle (a vector's worth: other workers' frames wait briefly). */
    private static final int HANDOFF_LIMIT = 256;

    private final WorkerProxy commands;
    private final AtomicLongArray portStats;
    private final AtomicReferenceArray<PortIo> replacements;
    private final int worker;
    private final int replacementBase;
    private final long[] publishedDrops;
    private final long[] publishedErrors;
    private long nextStats;

    /**
     * @param replacements new sockets for this worker's ports, at {@code worker * ports.length + port}.
     * @param portStats    per port, summed over workers: capture drops at {@code 2 * port}, errors at {@code + 1}.
     */
    GatewayAgent(final Dataplane dataplane, final PortIo[] ports, final WorkerProxy commands,
        final AtomicLongArray portStats, final AtomicReferenceArray<PortIo> replacements)
    {
        this.worker = dataplane.worker();
        this.replacementBase = worker * ports.length;
        this.publishedDrops = new long[ports.length];
        this.publishedErrors = new long[ports.length];
        this.replacements = replacements;
        this.dataplane = dataplane;
        this.ports = ports;
        this.commands = commands;
        this.portStats = portStats;
    }

    @Override
    public int doWork()
    {
        final long now = System.nanoTime();
        int work = dataplane.tick(now);
        work += commands.drain(worker);
        work += dataplane.drainHandoff(HANDOFF_LIMIT);
        for (int i = 0; i < ports.length; i++)
        {
            if (replacements.get(replacementBase + i) != null)
            {
                // A device came back: the monitor opened a new socket; the old one is ours to close.
                final PortIo fresh = replacements.getAndSet(replacementBase + i, null);
                publishedDrops[i] = 0;
                publishedErrors[i] = 0;
                fresh.attach(dataplane);
                if (ports[i] != null)
                {
                    ports[i].close();
                }
                ports[i] = fresh;
                work++;
            }
        }
        for (final PortIo port : ports)
        {
            if (port != null)
            {
                work += port.poll();
            }
        }
        dataplane.flush();
        for (final PortIo port : ports)
        {
            if (port != null)
            {
                port.flush();
            }
        }
        if (now - nextStats >= 0)
        {
            nextStats = now + STATS_INTERVAL_NANOS;
            for (int i = 0; i < ports.length; i++)
            {
                if (ports[i] != null)
                {
                    // Several workers read a port through their own sockets: each adds what it saw since last time.
                    final long drops = ports[i].captureDrops();
                    final long errors = ports[i].errors();
                    portStats.getAndAdd(2 * i, drops - publishedDrops[i]);
                    portStats.getAndAdd(2 * i + 1, errors - publishedErrors[i]);
                    publishedDrops[i] = drops;
                    publishedErrors[i] = errors;
                }
            }
        }
        return work;
    }

    @Override
    public String roleName()
    {
        return "edgeplane-worker-" + worker;
    }
}
