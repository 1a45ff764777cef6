package io.edgeplane.nat;

import io.edgeplane.config.NatConfig;
import io.edgeplane.port.PortTable;

/**
 * The NAT settings as the worker reads them: a {@link NatConfig} resolved against the ports and routes of the
 * moment (the outside port, the address pool) into arrays. Immutable; the control plane publishes a new one with a
 * single volatile store, and the worker reads it once per vector.
 */
public final class NatSettings
{
    private static final long NANOS = 1_000_000_000L;

    private final NatConfig config;
    private final boolean[] inside = new boolean[PortTable.CAPACITY];
    private final int outside;
    private final int[] addresses;
    private final long udpTimeout;
    private final long tcpEstablishedTimeout;
    private final long tcpTransitoryTimeout;
    private final long icmpTimeout;

    /**
     * @param inside    port indexes of the inside ports.
     * @param outside   the outside port now, or -1 when there is none (no default route).
     * @param addresses the outside addresses (the pool, or the outside port's own address); empty when no outside.
     */
    public NatSettings(final NatConfig config, final int[] inside, final int outside, final int[] addresses)
    {
        this.config = config;
        for (final int port : inside)
        {
            this.inside[port] = true;
        }
        this.outside = outside;
        this.addresses = addresses.clone();
        this.udpTimeout = config.timeouts().udp() * NANOS;
        this.tcpEstablishedTimeout = config.timeouts().tcpEstablished() * NANOS;
        this.tcpTransitoryTimeout = config.timeouts().tcpTransitory() * NANOS;
        this.icmpTimeout = config.timeouts().icmp() * NANOS;
    }

    public NatConfig config()
    {
        return config;
    }

    public boolean inside(final int port)
    {
        return port >= 0 && inside[port];
    }

    /** The outside port, or -1. */
    public int outside()
    {
        return outside;
    }

    public int addressCount()
    {
        return addresses.length;
    }

    public int address(final int i)
    {
        return addresses[i];
    }

    /** True for one of the outside addresses (translated flows' replies come to these). */
    public boolean isOutsideAddress(final int ip)
    {
        for (final int address : addresses)
        {
            if (address == ip)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The outside address for an inside address: always the same one for the same inside address while the pool
     * is unchanged (RFC 4787 REQ-2, paired pooling).
     */
    public int addressFor(final int insideAddress)
    {
        if (addresses.length == 1)
        {
            return addresses[0];
        }
        int h = insideAddress * 0x9E3779B1;
        h ^= h >>> 16;
        return addresses[(h & 0x7FFF_FFFF) % addresses.length];
    }

    public int portLow()
    {
        return config.portLow();
    }

    public int portHigh()
    {
        return config.portHigh();
    }

    public boolean endpointIndependentFiltering()
    {
        return config.endpointIndependentFiltering();
    }

    public int maxSessions()
    {
        return config.maxSessions();
    }

    public long udpTimeoutNanos()
    {
        return udpTimeout;
    }

    public long tcpEstablishedTimeoutNanos()
    {
        return tcpEstablishedTimeout;
    }

    public long tcpTransitoryTimeoutNanos()
    {
        return tcpTransitoryTimeout;
    }

    public long icmpTimeoutNanos()
    {
        return icmpTimeout;
    }
}
