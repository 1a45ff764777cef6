package io.edgeplane.control.gateway;

import io.edgeplane.port.PortTable;
import io.edgeplane.route.RoutingTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Follows the Linux devices under the ports (polling {@code /sys/class/net/<device>} four times a second, on its own
 * thread): a device that disappears takes its port's link down (routes through it are withdrawn, as Linux does on
 * link down) and is reported; one that comes back (a new ifindex, e.g. a veth deleted and created again) gets a new
 * socket, opened here and handed to the worker, which swaps it in at the top of its duty cycle; a changed device
 * MTU makes the port's effective MTU the smaller of the config's and the device's, so a lowered MTU yields ICMP
 * fragmentation needed instead of a black hole.
 */
final class DeviceMonitor implements Runnable
{
    static final long PERIOD_MILLIS = 250;

    /** Opens fresh port implementations for port {@code i}, one per worker, in worker order. */
    @FunctionalInterface
    interface Opener
    {
        PortIo[] open(int port) throws GatewayException;
    }

    private final PortTable ports;
    private final RoutingTable routes;
    private final AtomicReferenceArray<PortIo> replacements;
    private final Opener opener;
    private final int workers;
    private final int[] ifindex;
    private final String[] state;
    private volatile boolean running = true;

    /** @param replacements new sockets, for worker {@code w} and port {@code p} at {@code w * ports + p}. */
    DeviceMonitor(final PortTable ports, final RoutingTable routes, final AtomicReferenceArray<PortIo> replacements,
        final int workers, final Opener opener)
    {
        this.workers = workers;
        this.ports = ports;
        this.routes = routes;
        this.replacements = replacements;
        this.opener = opener;
        this.ifindex = new int[ports.count()];
        this.state = new String[ports.count()];
        for (int i = 0; i < ports.count(); i++)
        {
            ifindex[i] = ports.isTunnel(i) ? 0 : read(i, "ifindex");
            state[i] = "up";
        }
    }

    /** The device's link as the API shows it: up, down, or missing. */
    String link(final int port)
    {
        return state[port];
    }

    void stop()
    {
        running = false;
    }

    @Override
    public void run()
    {
        while (running)
        {
            for (int port = 0; port < ports.count(); port++)
            {
                if (!ports.isTunnel(port))
                {
                    check(port);
                }
            }
            try
            {
                Thread.sleep(PERIOD_MILLIS);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
        }
    }

    void check(final int port)
    {
        final String device = ports.device(port);
        final int index = read(port, "ifindex");
        if (index <= 0)
        {
            if (!"missing".equals(state[port]))
            {
                state[port] = "missing";
                setLink(port, false);
                System.err.println("edgeplane: " + ports.name(port) + ": device " + device + " is gone; its routes " +
                    "are withdrawn until it returns");
            }
            return;
        }
        ports.deviceMtu(port, read(port, "mtu"));
        if (index != ifindex[port])
        {
            try
            {
                final PortIo[] fresh = opener.open(port);
                for (int w = 0; w < workers; w++)
                {
                    final PortIo stale = replacements.getAndSet(w * replacements.length() / workers + port, fresh[w]);
                    if (stale != null)
                    {
                        stale.close();
                    }
                }
                ifindex[port] = index;
                System.err.println("edgeplane: " + ports.name(port) + ": device " + device + " is back (ifindex " +
                    index + "); rebound");
            }
            catch (final GatewayException ex)
            {
                return; // not ready yet: next round
            }
        }
        final String operstate = readText(port, "operstate");
        final boolean up = !"down".equals(operstate) && !"lowerlayerdown".equals(operstate);
        final String next = up ? "up" : "down";
        if (!next.equals(state[port]))
        {
            state[port] = next;
            setLink(port, up);
            System.err.println("edgeplane: " + ports.name(port) + ": device " + device + " link " + next);
        }
    }

    private void setLink(final int port, final boolean up)
    {
        if (ports.linkUp(port) != up)
        {
            ports.linkUp(port, up);
            routes.refreshPort(port);
        }
    }

    private int read(final int port, final String attribute)
    {
        try
        {
            return Integer.parseInt(readText(port, attribute));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }

    private String readText(final int port, final String attribute)
    {
        try
        {
            return Files.readString(Path.of("/sys/class/net", ports.device(port), attribute)).strip();
        }
        catch (final IOException | RuntimeException ex)
        {
            return "";
        }
    }
}
