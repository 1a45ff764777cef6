package io.edgeplane.port;

import io.edgeplane.config.PortConfig;
import io.edgeplane.config.PortView;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;

/**
 * The ports (interfaces) as the hot path sees them: primitive arrays indexed by port id. A port has a kind
 * (ethernet, vlan; vxlan tunnels come as their own kind), a primary address with its connected subnet, and any
 * number of further local addresses (NAT pool addresses, LoadBalancer VIPs) that the routing table installs as
 * local /32 entries: "is this address ours" is answered by the FIB, and ARP answers for every address a port holds.
 * Everything is fixed at start except the administrative state and the extra addresses, which the control plane
 * may change at any time (an atomic array, and a whole new address array per change: the worker sees the old or
 * the new state at its next read, no lock).
 */
public final class PortTable implements PortView
{
    public static final int KIND_ETHERNET = 0;
    public static final int KIND_VLAN = 1;
    public static final int KIND_VXLAN = 2;
    /** A run-time tunnel removed again: its id stays taken, nothing matches it. */
    public static final int KIND_RETIRED = 3;
    private static final String[] KIND_NAMES = {"ethernet", "vlan", "vxlan"};

    private final String[] names;
    private final long[] mac;
    private final int[] address;
    private final int[] prefixLength;
    private final int[] configuredMtu;
    /** Effective MTU: the smaller of the config's and the device's (a device may be changed under us). */
    private final AtomicIntegerArray mtu;
    /** 1 while the port's device exists and is up (live mode follows it; replay never changes it). */
    private final AtomicIntegerArray linkUp;
    private final int[] vlan;
    private final String[] device;
    private final AtomicIntegerArray adminUp;
    private final int[] kind;
    /** Per port, the addresses it holds besides its primary one; each array is replaced whole, never edited. */
    private final AtomicReferenceArray<int[]> extraAddresses;
    /**
     * Every address of every port (for the martian-source check), as an open-addressing set: a power-of-two table at
     * most a quarter full, 0 marking an empty slot and the table's last element saying whether 0.0.0.0 is a member.
     * Replaced whole on a change. One multiply and usually one load per check, with no data-dependent branches of a
     * binary search (34 addresses, a pool of NAT addresses, mispredicted about a branch a step).
     */
    private volatile int[] localAddresses;
    private final String[] rpFilter;
    private final int[] vni;
    private final int[] udpPort;
    private final int[] underlay;
    private final int[] dfMode;

    /** Ports a table has room for over the process's life: the config's, then tunnels added at run time. */
    public static final int CAPACITY = 256;

    private static final VarHandle KIND = MethodHandles.arrayElementVarHandle(int[].class);
    private static final long SLOT_REUSE_GRACE_NANOS = 1_000_000_000L;

    private volatile int count;
    private final long[] retiredAtNanos = new long[CAPACITY];

    public PortTable(final List<PortConfig> ports)
    {
        if (ports.size() > CAPACITY)
        {
            throw new IllegalArgumentException("more than " + CAPACITY + " ports");
        }
        final int n = CAPACITY;
        names = new String[n];
        mac = new long[n];
        address = new int[n];
        prefixLength = new int[n];
        configuredMtu = new int[n];
        mtu = new AtomicIntegerArray(n);
        linkUp = new AtomicIntegerArray(n);
        vlan = new int[n];
        device = new String[n];
        adminUp = new AtomicIntegerArray(n);
        kind = new int[n];
        extraAddresses = new AtomicReferenceArray<>(n);
        rpFilter = new String[n];
        vni = new int[n];
        udpPort = new int[n];
        underlay = new int[n];
        dfMode = new int[n];
        for (int i = 0; i < ports.size(); i++)
        {
            fill(i, ports.get(i));
        }
        count = ports.size();
        publishLocalAddresses();
        for (int i = 0; i < ports.size(); i++)
        {
            if (ports.get(i).isTunnel())
            {
                underlay[i] = indexOf(ports.get(i).tunnel().underlay());
            }
        }
    }

    private void fill(final int i, final PortConfig port)
    {
        names[i] = port.name();
        mac[i] = port.mac();
        address[i] = port.address();
        prefixLength[i] = port.prefixLength();
        configuredMtu[i] = port.mtu();
        mtu.set(i, port.mtu());
        linkUp.set(i, 1);
        vlan[i] = port.vlan();
        device[i] = port.device();
        adminUp.set(i, port.adminUp() ? 1 : 0);
        underlay[i] = port.isTunnel() ? indexOf(port.tunnel().underlay()) : -1;
        if (port.isTunnel())
        {
            vni[i] = port.tunnel().vni();
            udpPort[i] = port.tunnel().udpPort();
            dfMode[i] = PortConfig.DF_MODES.indexOf(port.tunnel().df());
        }
        extraAddresses.set(i, port.addresses().stream().mapToInt(Integer::intValue).toArray());
        rpFilter[i] = port.rpFilter();
        // Last and with release semantics: a worker scanning a reused slot sees it retired or whole, never half.
        KIND.setRelease(kind, i, port.isTunnel() ? KIND_VXLAN : port.vlan() != 0 ? KIND_VLAN : KIND_ETHERNET);
    }

    /**
     * Add a tunnel port at run time (control thread; already validated): its fields are written, then the count is
     * published; nothing routes to it until the routing table installs its routes after this returns.
     *
     * @return its port id.
     */
    public synchronized int addTunnel(final PortConfig port)
    {
        int i = reusableSlot(System.nanoTime());
        if (i < 0)
        {
            i = count;
            if (i == CAPACITY)
            {
                throw new IllegalStateException("no room for another port (" + CAPACITY + " slots, none retired " +
                    "for over a second)");
            }
        }
        fill(i, port);
        if (i == count)
        {
            count = i + 1;
        }
        publishLocalAddresses();
        return i;
    }

    /** A slot retired long enough ago that no packet the worker read before the retirement still names it. */
    private int reusableSlot(final long nowNanos)
    {
        for (int i = 0, n = count; i < n; i++)
        {
            if (kind[i] == KIND_RETIRED && nowNanos - retiredAtNanos[i] >= SLOT_REUSE_GRACE_NANOS)
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * Retire a tunnel port added at run time (control thread; its routes and neighbors are gone): it goes down and no
     * longer has a name or VNI, so nothing finds it; its id is reused by a later tunnel only after a grace period,
     * long enough for any vector in flight to have left the worker (as adjacency ids are).
     */
    public synchronized void retire(final int port)
    {
        adminUp.set(port, 0);
        KIND.setRelease(kind, port, KIND_RETIRED);
        names[port] = "";
        extraAddresses.set(port, new int[0]);
        address[port] = 0;
        retiredAtNanos[port] = System.nanoTime();
        publishLocalAddresses();
    }

    public int count()
    {
        return count;
    }

    @Override
    public String name(final int port)
    {
        return names[port];
    }

    public String[] names()
    {
        return Arrays.copyOf(names, count);
    }

    /** @return the port id with that name, or -1. */
    @Override
    public int indexOf(final String name)
    {
        for (int i = 0, n = count; i < n; i++)
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

    @Override
    public int address(final int port)
    {
        return address[port];
    }

    @Override
    public int prefixLength(final int port)
    {
        return prefixLength[port];
    }

    /** The effective MTU (hot path: one plain-enough volatile read). */
    public int mtu(final int port)
    {
        return mtu.get(port);
    }

    public int configuredMtu(final int port)
    {
        return configuredMtu[port];
    }

    /** The device's MTU changed: the effective MTU becomes the smaller of it and the config's. */
    public void deviceMtu(final int port, final int deviceMtu)
    {
        mtu.set(port, deviceMtu > 0 ? Math.min(configuredMtu[port], deviceMtu) : configuredMtu[port]);
    }

    public boolean linkUp(final int port)
    {
        return linkUp.get(port) != 0;
    }

    /** The device appeared or went (control thread); the routing table must be refreshed for the port after. */
    public void linkUp(final int port, final boolean up)
    {
        linkUp.set(port, up ? 1 : 0);
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
    @Override
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
        for (int i = 0, n = count; i < n; i++)
        {
            if (kind[i] != KIND_RETIRED && prefixLength[i] > bestLength && onLink(i, ip))
            {
                best = i;
                bestLength = prefixLength[i];
            }
        }
        return best;
    }

    /** @return the first port holding {@code ip} as one of its addresses, or -1. */
    @Override
    public int ownerOf(final int ip)
    {
        for (int i = 0, n = count; i < n; i++)
        {
            if (kind[i] != KIND_RETIRED && holds(i, ip))
            {
                return i;
            }
        }
        return -1;
    }

    /** True when {@code ip} is the port's primary address or one of its extra addresses. */
    public boolean holds(final int port, final int ip)
    {
        if (address[port] == ip)
        {
            return true;
        }
        final int[] extra = extraAddresses.get(port);
        for (int i = 0; i < extra.length; i++)
        {
            if (extra[i] == ip)
            {
                return true;
            }
        }
        return false;
    }

    /** The addresses the port holds besides its primary one. */
    public int[] extraAddresses(final int port)
    {
        return extraAddresses.get(port).clone();
    }

    /** Add an extra address (control thread; the routing table installs its local route first). */
    public synchronized boolean addAddress(final int port, final int ip)
    {
        if (holds(port, ip))
        {
            return false;
        }
        final int[] old = extraAddresses.get(port);
        final int[] next = Arrays.copyOf(old, old.length + 1);
        next[old.length] = ip;
        extraAddresses.set(port, next);
        publishLocalAddresses();
        return true;
    }

    /** Remove an extra address (control thread); the primary address cannot be removed. */
    public synchronized boolean removeAddress(final int port, final int ip)
    {
        final int[] old = extraAddresses.get(port);
        final int[] next = Arrays.stream(old).filter(a -> a != ip).toArray();
        if (next.length == old.length)
        {
            return false;
        }
        extraAddresses.set(port, next);
        publishLocalAddresses();
        return true;
    }

    private void publishLocalAddresses()
    {
        final int[] all = IntStream.range(0, count).filter(i -> kind[i] != KIND_RETIRED)
            .flatMap(i -> IntStream.concat(IntStream.of(address[i]), IntStream.of(extraAddresses.get(i))))
            .distinct().toArray();
        final int slots = Math.max(8, Integer.highestOneBit(Math.max(1, all.length) * 4 - 1) << 1);
        final int[] set = new int[slots + 1];
        for (final int ip : all)
        {
            if (ip == 0)
            {
                set[slots] = 1;
                continue;
            }
            int i = localSlot(ip, slots);
            while (set[i] != 0)
            {
                i = (i + 1) & (slots - 1);
            }
            set[i] = ip;
        }
        localAddresses = set;
    }

    private static int localSlot(final int ip, final int slots)
    {
        return (ip * 0x9E37_79B9 >>> 16) & (slots - 1);
    }

    /** True when {@code ip} is an address of any port (hot path: a hash set lookup, see {@link #localAddresses}). */
    public boolean isLocalAddress(final int ip)
    {
        final int[] set = localAddresses;
        final int slots = set.length - 1;
        if (ip == 0)
        {
            return set[slots] != 0;
        }
        int i = localSlot(ip, slots);
        while (true)
        {
            final int member = set[i];
            if (member == ip)
            {
                return true;
            }
            if (member == 0)
            {
                return false;
            }
            i = (i + 1) & (slots - 1);
        }
    }

    /** The port's reverse-path filter: {@code off}, {@code loose} or {@code strict} (RFC 3704). */
    public String rpFilter(final int port)
    {
        return rpFilter[port];
    }

    @Override
    public boolean isTunnel(final int port)
    {
        return kind[port] == KIND_VXLAN;
    }

    /** A tunnel port's VNI. */
    public int vni(final int port)
    {
        return vni[port];
    }

    /** A tunnel port's UDP destination port. */
    public int udpPort(final int port)
    {
        return udpPort[port];
    }

    /** A tunnel port's underlay port (its address is the outer source), or -1. */
    public int underlay(final int port)
    {
        return underlay[port];
    }

    public static final int DF_SET = 0;
    public static final int DF_UNSET = 1;
    public static final int DF_INHERIT = 2;

    /** A tunnel port's outer DF: {@link #DF_SET}, {@link #DF_UNSET} or {@link #DF_INHERIT}. */
    public int dfMode(final int port)
    {
        return dfMode[port];
    }

    /** The tunnel port fed by {@code underlayPort} with this UDP port and VNI, or -1 (few tunnels: a scan). */
    public int tunnelFor(final int underlayPort, final int destinationPort, final int tunnelVni)
    {
        for (int i = 0, n = count; i < n; i++)
        {
            if ((int)KIND.getAcquire(kind, i) == KIND_VXLAN && underlay[i] == underlayPort && udpPort[i] == destinationPort &&
                vni[i] == tunnelVni)
            {
                return i;
            }
        }
        return -1;
    }

    /** True when some tunnel listens on {@code underlayPort} at UDP port {@code destinationPort}. */
    public boolean tunnelPort(final int underlayPort, final int destinationPort)
    {
        for (int i = 0, n = count; i < n; i++)
        {
            if ((int)KIND.getAcquire(kind, i) == KIND_VXLAN && underlay[i] == underlayPort && udpPort[i] == destinationPort)
            {
                return true;
            }
        }
        return false;
    }

    public int kind(final int port)
    {
        return kind[port];
    }
}
