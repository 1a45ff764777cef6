package io.edgeplane.control.gateway;

import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.stage.Dataplane;
import org.agrona.concurrent.Agent;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The run-to-completion worker, with Aeron's duty cycle: timers on the cached clock first, then control commands
 * (bounded), then a burst from every port; the vector is flushed through the pipeline and every port's staged
 * transmissions are sent. One thread, one dataplane, no locks. Every 100 ms it publishes the kernel's capture drop
 * counts (pcap_stats) for the control plane.
 */
final class GatewayAgent implements Agent
{
    private final Dataplane dataplane;
    private final PortIo[] ports;
    private static final long STATS_INTERVAL_NANOS = 100_000_000L;

    private final WorkerProxy commands;
    private final AtomicLongArray portStats;
    private final AtomicReferenceArray<PortIo> replacements;
    private long nextStats;

    GatewayAgent(final Dataplane dataplane, final PortIo[] ports, final WorkerProxy commands,
        final AtomicLongArray portStats, final AtomicReferenceArray<PortIo> replacements)
    {
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
        work += commands.drain();
        for (int i = 0; i < ports.length; i++)
        {
            if (replacements.get(i) != null)
            {
                // A device came back: the monitor opened a new socket; the old one is ours to close.
                final PortIo fresh = replacements.getAndSet(i, null);
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
                    portStats.lazySet(2 * i, ports[i].captureDrops());
                    portStats.lazySet(2 * i + 1, ports[i].errors());
                }
            }
        }
        return work;
    }

    @Override
    public String roleName()
    {
        return "edgeplane-worker";
    }
}
