package io.edgeplane.control.gateway;

import io.edgeplane.stage.Dataplane;
import org.agrona.concurrent.Agent;

/**
 * The run-to-completion worker: control commands first (bounded), then a burst from every port, then the
 * vector is flushed through the pipeline. One thread, one dataplane, no locks.
 */
final class GatewayAgent implements Agent
{
    private final Dataplane dataplane;
    private final LivePort[] ports;
    private final WorkerCommands commands;

    GatewayAgent(final Dataplane dataplane, final LivePort[] ports, final WorkerCommands commands)
    {
        this.dataplane = dataplane;
        this.ports = ports;
        this.commands = commands;
    }

    @Override
    public int doWork()
    {
        int work = commands.drain();
        for (final LivePort port : ports)
        {
            if (port != null)
            {
                work += port.poll();
            }
        }
        dataplane.flush();
        return work;
    }

    @Override
    public String roleName()
    {
        return "edgeplane-worker";
    }
}
