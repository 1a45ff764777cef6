package io.edgeplane.port;

import io.edgeplane.config.PortConfig;

import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The ports as the hot path sees them: primitive arrays indexed by port id. Everything is fixed at start except
 * the administrative state, which the control plane may flip at any time (an atomic array: the worker sees the
 * change at its next read, no lock).
 */
public final class PortTable
{
    private final String[] names;
    private final long[] mac;
    private final int[] address;
    private final int[] prefixLength;
    private final int[] mtu;
    private final int[] vlan;
    private final String[] device;
    private final AtomicIntegerArray adminUp;

    public PortTable(final List<PortConfig> ports)
    {
        final int n = ports.size();
        names = new String[n];
        mac = new long[n];
        address = new int[n];
        prefixLength = new int[n];
        mtu = new int[n];
        vlan = new int[n];
        device = new String[n];
        adminUp = new AtomicIntegerArray(n);
        for (int i = 0; i < n; i++)
        {
            final PortConfig port = ports.get(i);
            names[i] = port.name();
            mac[i] = port.mac();
            address[i] = port.address();
            prefixLength[i] = port.prefixLength();
            mtu[i] = port.mtu();
            vlan[i] = port.vlan();
            device[i] = port.device();
            adminUp.set(i, port.adminUp() ? 1 : 0);
        }
    }

    public int count()
    {
        return names.length;
    }

    public String name(final int port)
    {
        return names[port];
    }

    public String[] names()
    {
        return names.clone();
    }

    /** @return the port id with that name, or -1. */
    public int indexOf(final String name)
    {
        for (int i = 0; i < names.length; i++)
        {
            if (names[i].equals(name))
            {
                return i;
            }
        }
        return -1;
    }

    public long mac(final int port)
    {
        return mac[port];
    }

    public int address(final int port)
    {
        return address[port];
    }

    public int prefixLength(final int port)
    {
        return prefixLength[port];
    }

    public int mtu(final int port)
    {
        return mtu[port];
    }

    public int vlan(final int port)
    {
        return vlan[port];
    }

    public String device(final int port)
    {
        return device[port];
    }

    public boolean adminUp(final int port)
    {
        return adminUp.get(port) != 0;
    }

    public void adminUp(final int port, final boolean up)
    {
        adminUp.set(port, up ? 1 : 0);
    }

    /** True when {@code ip} is inside the port's connected subnet. */
    public boolean onLink(final int port, final int ip)
    {
        final int mask = prefixLength[port] == 0 ? 0 : -1 << (32 - prefixLength[port]);
        return (ip & mask) == (address[port] & mask);
    }

    /** The port whose connected subnet holds {@code ip} (longest prefix), or -1. */
    public int connectedPortFor(final int ip)
    {
        int best = -1;
        int bestLength = -1;
        for (int i = 0; i < names.length; i++)
        {
            if (prefixLength[i] > bestLength && onLink(i, ip))
            {
                best = i;
                bestLength = prefixLength[i];
            }
        }
        return best;
    }

    /** @return the port owning {@code ip} as its own address, or -1. */
    public int ownerOf(final int ip)
    {
        for (int i = 0; i < address.length; i++)
        {
            if (address[i] == ip)
            {
                return i;
            }
        }
        return -1;
    }
}
