package io.edgeplane.route;

import org.agrona.collections.Long2LongHashMap;

/**
 * IPv4 address to MAC, per port: static entries from the config and entries learned from ARP. Keyed by
 * {@code port << 32 | ip} in a primitive open-addressing map, so a lookup neither allocates nor boxes.
 * Owned by the worker thread; the control plane changes it through commands the worker drains.
 */
public final class NeighborTable
{
    public static final long NO_MAC = -1L;

    private final Long2LongHashMap macs = new Long2LongHashMap(1024, 0.6f, NO_MAC);
    private final Long2LongHashMap staticEntries = new Long2LongHashMap(64, 0.6f, NO_MAC);
    /** On tunnel ports: the underlay address of the VTEP behind each neighbor (the kernel's fdb entry). */
    private final Long2LongHashMap vteps = new Long2LongHashMap(64, 0.6f, 0L);
    private final int capacity;

    public NeighborTable(final int capacity)
    {
        this.capacity = capacity;
    }

    private static long key(final int port, final int ip)
    {
        return ((long)port << 32) | (ip & 0xFFFF_FFFFL);
    }

    /** @return the MAC, or {@link #NO_MAC}. */
    public long lookup(final int port, final int ip)
    {
        return macs.get(key(port, ip));
    }

    public void addStatic(final int port, final int ip, final long mac)
    {
        addStatic(port, ip, mac, 0);
    }

    /** A static entry; on a tunnel port with the VTEP's underlay address ({@code vtep}, 0 for none). */
    public void addStatic(final int port, final int ip, final long mac, final int vtep)
    {
        staticEntries.put(key(port, ip), mac);
        macs.put(key(port, ip), mac);
        setVtep(key(port, ip), vtep);
    }

    private void setVtep(final long key, final int vtep)
    {
        if (vtep != 0)
        {
            vteps.put(key, vtep & 0xFFFF_FFFFL);
        }
        else
        {
            vteps.remove(key);
        }
    }

    /** The VTEP behind a tunnel neighbor, or 0. */
    public int vtep(final int port, final int ip)
    {
        return (int)vteps.get(key(port, ip));
    }

    /** Learn (as {@link #learn}) on a tunnel port, recording the outer source address as the VTEP. */
    public int learn(final int port, final int ip, final long mac, final int vtep)
    {
        final int outcome = learn(port, ip, mac);
        if (outcome == LEARNED_NEW || outcome == CONFIRMED)
        {
            setVtep(key(port, ip), vtep);
        }
        return outcome;
    }

    /** Learn outcomes. */
    public static final int REFUSED = 0;
    public static final int LEARNED_NEW = 1;
    public static final int CONFIRMED = 2;
    public static final int STATIC = 3;

    /**
     * Learn (or re-confirm) a dynamic entry; a static entry always wins, and a full table refuses new addresses.
     *
     * @return {@link #LEARNED_NEW}, {@link #CONFIRMED} (it was known), {@link #STATIC} or {@link #REFUSED}.
     */
    public int learn(final int port, final int ip, final long mac)
    {
        final long key = key(port, ip);
        if (staticEntries.containsKey(key))
        {
            return STATIC;
        }
        final boolean known = macs.containsKey(key);
        if (!known && macs.size() >= capacity)
        {
            return REFUSED;
        }
        macs.put(key, mac);
        return known ? CONFIRMED : LEARNED_NEW;
    }

    public boolean isStatic(final int port, final int ip)
    {
        return staticEntries.containsKey(key(port, ip));
    }

    /** Remove a learned entry (ageing); static entries stay. */
    public boolean expire(final int port, final int ip)
    {
        final long key = key(port, ip);
        if (staticEntries.containsKey(key))
        {
            return false;
        }
        vteps.remove(key);
        return macs.remove(key) != NO_MAC;
    }

    /** @return true when an entry was removed. */
    public boolean remove(final int port, final int ip)
    {
        final long key = key(port, ip);
        staticEntries.remove(key);
        vteps.remove(key);
        return macs.remove(key) != NO_MAC;
    }

    public int size()
    {
        return macs.size();
    }

    /** Visit every entry (control plane listing, off the hot path). */
    public void forEach(final EntryConsumer consumer)
    {
        final Long2LongHashMap.KeyIterator keys = macs.keySet().iterator();
        while (keys.hasNext())
        {
            final long key = keys.nextValue();
            consumer.accept((int)(key >>> 32), (int)key, macs.get(key), staticEntries.containsKey(key),
                (int)vteps.get(key));
        }
    }

    @FunctionalInterface
    public interface EntryConsumer
    {
        void accept(int port, int ip, long mac, boolean isStatic, int vtep);
    }
}
