package io.edgeplane.session;

import io.edgeplane.proto.Ipv4Flyweight;

/**
 * One worker's connection table (Linux's conntrack, VPP's NAT44-ED sessions), preallocated and made of primitive
 * arrays: no object per flow.
 * <p>
 * A <b>session</b> has two 5-tuples, as a packet would carry them: the <i>original</i> direction (as the first
 * packet arrived) and the <i>reply</i> direction (as the answer will arrive). Translation is generic: a packet
 * matching one direction leaves with the other direction's tuple reversed (source := other.destination, destination
 * := other.source). Masquerade is {@code original = (inside:port -> remote:port)}, {@code reply = (remote:port ->
 * outside:mapped)}; load-balancer DNAT is {@code original = (client -> VIP:port)}, {@code reply = (backend:port ->
 * client)}; hairpinning is both at once.
 * <p>
 * A <b>mapping</b> is masquerade's endpoint-independent binding {@code (protocol, inside address, inside port) ->
 * (outside address, outside port)} (RFC 4787 REQ-1): every session from that inside endpoint uses it, and it lives
 * while one does. Outside ports never collide: a port is taken only when no mapping holds it.
 * <p>
 * Both directions of every session and both ends of every mapping are keys of one open-addressing index (linear
 * probing, backward-shift deletion, so no tombstones; at most half full), hashed with SipHash-1-3 under a key the
 * caller chooses at random at start. A slot is two longs: the addresses, then the ports, protocol, kind and the
 * entry's id, so a probe touches one cache line and compares without reading the session.
 * <p>
 * Expiry: each session has one timer, set when it is created; a packet only stamps {@link #touch last-seen}. When
 * the timer fires the session is removed if it has been idle for its timeout (which depends on its protocol and TCP
 * state), otherwise the timer is set again for when it would be (VPP's lazy expiry: no timer work per packet). The
 * timers are the table's own hashed wheel of intrusive lists (4,096 spokes of 2^24 ns, one turn about 69 s; links
 * in per-session arrays): setting and cancelling one is O(1) however many share a spoke, where a general wheel
 * (Agrona's scans a spoke for a free slot, and maps timer ids to owners) made a burst of new sessions quadratic. The
 * worker polls it ({@link #pollExpiry}) with its clock; a timer fires within a tick of its time. Owned by the
 * worker thread.
 */
public final class SessionTable
{
    public static final int MAX_CAPACITY = 1 << 22;
    public static final int ORIGINAL = 0;
    public static final int REPLY = 1;
    public static final int NONE = -1;
    /** {@link #createMapping}/{@link #createSession}: no free entry. */
    public static final int FULL = -2;
    /** {@link #createMapping}: no free outside port. */
    public static final int NO_PORT = -3;
    public static final int MAX_PORT_ATTEMPTS = 512;

    public static final int TIMEOUT_UDP = 0;
    public static final int TIMEOUT_TCP_ESTABLISHED = 1;
    public static final int TIMEOUT_TCP_TRANSITORY = 2;
    public static final int TIMEOUT_ICMP = 3;

    // TCP state bits, tracked from flags (RFC 5382 §5: established once both ends sent a SYN; transitory while
    // opening, after a FIN either way and after a RST).
    public static final int TCP_SYN_ORIGINAL = 1;
    public static final int TCP_SYN_REPLY = 2;
    public static final int TCP_FIN_ORIGINAL = 4;
    public static final int TCP_FIN_REPLY = 8;
    public static final int TCP_RST = 16;

    private static final int S_ORIGINAL_SOURCE = 0;
    private static final int S_ORIGINAL_DESTINATION = 1;
    private static final int S_ORIGINAL_PORTS = 2;
    private static final int S_REPLY_SOURCE = 3;
    private static final int S_REPLY_DESTINATION = 4;
    private static final int S_REPLY_PORTS = 5;
    private static final int S_PROTOCOL = 6;
    private static final int S_TCP_STATE = 7;
    private static final int S_MAPPING = 8;
    private static final int S_OWNER = 9;
    private static final int S_GENERATION = 10;
    private static final int S_IN_USE = 11;
    /** Last-seen time, high and low halves: in the row, so a packet's state update touches no other array. */
    private static final int S_LAST_SEEN_HIGH = 12;
    private static final int S_LAST_SEEN_LOW = 13;
    /** A load-balanced session: its service's id + 1 (0: none), and the services' generation it last checked. */
    private static final int S_SERVICE = 14;
    private static final int S_SERVICE_VERSION = 15;
    private static final int S_FIELDS = 16;

    private static final int M_INSIDE_ADDRESS = 0;
    private static final int M_INSIDE_PORT = 1;
    private static final int M_OUTSIDE_ADDRESS = 2;
    private static final int M_OUTSIDE_PORT = 3;
    private static final int M_PROTOCOL = 4;
    private static final int M_SESSIONS = 5;
    private static final int M_FIELDS = 8;

    private static final long VALUE_MASK = (1L << 24) - 1;
    private static final long KIND_MAPPING_INSIDE = 1L << 31;
    private static final long KIND_MAPPING_OUTSIDE = 1L << 30;
    private static final long KIND_FRAGMENT = 3L << 30;
    private static final int ID_BITS = 23;

    private static final int FRAGMENT_SLOTS = 4096;
    public static final long FRAGMENT_TIMEOUT_NANOS = 30_000_000_000L;

    private final int capacity;
    private final SipHash hash;
    private final long[] index;
    private final int mask;
    private final int[] sessions;
    private final int[] spokeHead = new int[WHEEL_SPOKES];
    private final int[] timerNext;
    private final int[] timerPrev;
    private final long[] timerDue;
    private long wheelTick = Long.MIN_VALUE;
    private final int[] freeSessions;
    private int freeSessionCount;
    private final int[] mappings;
    private final int[] freeMappings;
    private int freeMappingCount;
    private final long[] fragmentAddresses = new long[FRAGMENT_SLOTS];
    private final int[] fragmentIds = new int[FRAGMENT_SLOTS];
    private final int[] fragmentValues = new int[FRAGMENT_SLOTS];
    private final int[] fragmentGenerations = new int[FRAGMENT_SLOTS];
    private final long[] fragmentExpiry = new long[FRAGMENT_SLOTS];
    private final long[] timeoutNanos = {300_000_000_000L, 7440_000_000_000L, 240_000_000_000L, 60_000_000_000L};
    private int random;
    private long created;
    private long expired;

    /**
     * @param capacity sessions (and mappings) the table holds, at most {@link #MAX_CAPACITY}.
     * @param k0       first half of the SipHash key (choose at random at start).
     * @param k1       second half.
     * @param portSeed seed of the outside port choice (a config's seed: replays choose the same ports every run).
     */
    public SessionTable(final int capacity, final long k0, final long k1, final int portSeed)
    {
        if (capacity < 1 || capacity > MAX_CAPACITY)
        {
            throw new IllegalArgumentException("capacity must be in 1.." + MAX_CAPACITY + ": " + capacity);
        }
        this.capacity = capacity;
        this.hash = SipHash.sipHash13(k0, k1);
        // Keys: two per session, two per mapping; at most half the slots used.
        final int slots = Integer.highestOneBit(Math.max(16, capacity * 8 - 1)) << 1;
        this.index = new long[slots * 2];
        this.mask = slots - 1;
        this.sessions = new int[capacity * S_FIELDS];
        this.timerNext = new int[capacity];
        this.timerPrev = new int[capacity];
        this.timerDue = new long[capacity];
        java.util.Arrays.fill(spokeHead, -1);
        java.util.Arrays.fill(timerPrev, UNSCHEDULED);
        this.freeSessions = new int[capacity];
        this.mappings = new int[capacity * M_FIELDS];
        this.freeMappings = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            freeSessions[i] = capacity - 1 - i;
            freeMappings[i] = capacity - 1 - i;
        }
        freeSessionCount = capacity;
        freeMappingCount = capacity;
        random = portSeed * 0x9E3779B9 | 1;
    }

    /** Spokes of the expiry wheel (a power of two) and the width of one, 2^24 ns. */
    private static final int WHEEL_SPOKES = 1 << 12;
    private static final int TICK_SHIFT = 24;
    /** {@link #timerPrev} of a session without a timer (a session at a spoke's head has {@code -1 - spoke}). */
    private static final int UNSCHEDULED = Integer.MIN_VALUE;

    /** The idle timeouts for the next expiry checks ({@link #TIMEOUT_UDP} ... {@link #TIMEOUT_ICMP}), in ns. */
    public void timeouts(final long udp, final long tcpEstablished, final long tcpTransitory, final long icmp)
    {
        timeoutNanos[TIMEOUT_UDP] = udp;
        timeoutNanos[TIMEOUT_TCP_ESTABLISHED] = tcpEstablished;
        timeoutNanos[TIMEOUT_TCP_TRANSITORY] = tcpTransitory;
        timeoutNanos[TIMEOUT_ICMP] = icmp;
    }

    public int capacity()
    {
        return capacity;
    }

    /** Sessions in use. */
    public int size()
    {
        return capacity - freeSessionCount;
    }

    public int mappingCount()
    {
        return capacity - freeMappingCount;
    }

    /** Sessions created since start. */
    public long created()
    {
        return created;
    }

    /** Sessions removed by their idle timeout since start. */
    public long expired()
    {
        return expired;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Index

    private static long addresses(final int source, final int destination)
    {
        return (long)source << 32 | (destination & 0xFFFF_FFFFL);
    }

    private static long key(final int ports, final int protocol, final long kind)
    {
        return (long)ports << 32 | kind | (long)protocol << 24;
    }

    private int home(final long addresses, final long key)
    {
        return (int)hash.hash16(addresses, key) & mask;
    }

    /** @return the value stored for the key, or {@link #NONE}. */
    private int find(final long addresses, final long key)
    {
        return findFrom(home(addresses, key), addresses, key);
    }

    /** Probe from {@code slot} (the key's home) to the key or the first empty slot. */
    private int findFrom(final int slot, final long addresses, final long key)
    {
        final long[] index = this.index;
        int i = slot;
        while (true)
        {
            final long entry = index[i * 2 + 1];
            if (entry == 0)
            {
                return NONE;
            }
            if ((entry & ~VALUE_MASK) == key && index[i * 2] == addresses)
            {
                return (int)(entry & VALUE_MASK) - 1;
            }
            i = (i + 1) & mask;
        }
    }

    private void insert(final long addresses, final long key, final int value)
    {
        final long[] index = this.index;
        int i = home(addresses, key);
        while (index[i * 2 + 1] != 0)
        {
            i = (i + 1) & mask;
        }
        index[i * 2] = addresses;
        index[i * 2 + 1] = key | (value + 1);
    }

    private void erase(final long addresses, final long key)
    {
        final long[] index = this.index;
        int hole = home(addresses, key);
        while (true)
        {
            final long entry = index[hole * 2 + 1];
            if (entry == 0)
            {
                return;
            }
            if ((entry & ~VALUE_MASK) == key && index[hole * 2] == addresses)
            {
                break;
            }
            hole = (hole + 1) & mask;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole when their home allows it.
        int j = hole;
        while (true)
        {
            j = (j + 1) & mask;
            final long entry = index[j * 2 + 1];
            if (entry == 0)
            {
                break;
            }
            final int home = home(index[j * 2], entry & ~VALUE_MASK);
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                index[hole * 2] = index[j * 2];
                index[hole * 2 + 1] = entry;
                hole = j;
            }
        }
        index[hole * 2] = 0;
        index[hole * 2 + 1] = 0;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Sessions

    /**
     * The session a packet belongs to.
     *
     * @return {@code session << 1 | direction}, or {@link #NONE}.
     */
    public int lookup(final int protocol, final int source, final int sourcePort, final int destination,
        final int destinationPort)
    {
        return find(addresses(source, destination), key(sourcePort << 16 | destinationPort, protocol, 0));
    }

    // Batched lookup (VPP's prefetch across a vector): a stage computes every packet's home slot first, touches
    // them all (independent loads, so their cache misses overlap), then finds each key in what is now cached, and
    // touches the sessions found the same way before it uses them.

    /** Where the probe for a packet's tuple starts. */
    public int slot(final int protocol, final int source, final int sourcePort, final int destination,
        final int destinationPort)
    {
        return home(addresses(source, destination), key(sourcePort << 16 | destinationPort, protocol, 0));
    }

    /** Load a slot (returns its word, so the load is kept). */
    public long peek(final int slot)
    {
        return index[slot * 2 + 1];
    }

    /** {@link #lookup} from a slot computed by {@link #slot}. */
    public int lookupAt(final int slot, final int protocol, final int source, final int sourcePort,
        final int destination, final int destinationPort)
    {
        return findFrom(slot, addresses(source, destination), key(sourcePort << 16 | destinationPort, protocol, 0));
    }

    /** Load a session's row (returns a word of it, so the load is kept). */
    public int peekSession(final int s)
    {
        return sessions[s * S_FIELDS + S_LAST_SEEN_LOW];
    }

    /**
     * True when {@code value} ({@code session << 1 | direction}, from an earlier lookup) still names a session in use
     * with this tuple in that direction: a stage that looked up a whole vector first checks this after it created or
     * removed sessions.
     */
    public boolean still(final int value, final int protocol, final int source, final int sourcePort,
        final int destination, final int destinationPort)
    {
        final int s = value >>> 1;
        final int row = s * S_FIELDS;
        final boolean original = (value & 1) == ORIGINAL;
        return sessions[row + S_IN_USE] != 0 && sessions[row + S_PROTOCOL] == protocol &&
            sessions[row + (original ? S_ORIGINAL_SOURCE : S_REPLY_SOURCE)] == source &&
            sessions[row + (original ? S_ORIGINAL_DESTINATION : S_REPLY_DESTINATION)] == destination &&
            sessions[row + (original ? S_ORIGINAL_PORTS : S_REPLY_PORTS)] == (sourcePort << 16 | destinationPort);
    }

    /**
     * Create a session with both directions' tuples (ports are 16-bit; for ICMP echo, the identifier as the
     * requester's port and 0 as the other end's). The caller checks {@link #lookup} first: both tuples must be new.
     *
     * @param mapping the mapping it uses (its session count goes up), or -1.
     * @param owner   a caller's tag (masquerade: the outside port it was made for).
     * @return the session, or {@link #FULL}.
     */
    public int createSession(final int protocol, final int originalSource, final int originalSourcePort,
        final int originalDestination, final int originalDestinationPort, final int replySource,
        final int replySourcePort, final int replyDestination, final int replyDestinationPort, final int mapping,
        final int owner, final long nowNanos)
    {
        if (freeSessionCount == 0)
        {
            return FULL;
        }
        final int s = freeSessions[--freeSessionCount];
        final int row = s * S_FIELDS;
        final int[] sessions = this.sessions;
        sessions[row + S_ORIGINAL_SOURCE] = originalSource;
        sessions[row + S_ORIGINAL_DESTINATION] = originalDestination;
        sessions[row + S_ORIGINAL_PORTS] = originalSourcePort << 16 | originalDestinationPort;
        sessions[row + S_REPLY_SOURCE] = replySource;
        sessions[row + S_REPLY_DESTINATION] = replyDestination;
        sessions[row + S_REPLY_PORTS] = replySourcePort << 16 | replyDestinationPort;
        sessions[row + S_PROTOCOL] = protocol;
        sessions[row + S_TCP_STATE] = 0;
        sessions[row + S_MAPPING] = mapping;
        sessions[row + S_OWNER] = owner;
        sessions[row + S_SERVICE] = 0;
        sessions[row + S_SERVICE_VERSION] = 0;
        sessions[row + S_IN_USE] = 1;
        insert(addresses(originalSource, originalDestination),
            key(sessions[row + S_ORIGINAL_PORTS], protocol, 0), s << 1 | ORIGINAL);
        insert(addresses(replySource, replyDestination), key(sessions[row + S_REPLY_PORTS], protocol, 0),
            s << 1 | REPLY);
        if (mapping >= 0)
        {
            mappings[mapping * M_FIELDS + M_SESSIONS]++;
        }
        touch(s, nowNanos);
        schedule(s, nowNanos + timeoutNanos[timeoutClass(s)]);
        created++;
        return s;
    }


    /** Remove a session (and its mapping when it was the last to use it). */
    public void delete(final int s)
    {
        final int row = s * S_FIELDS;
        final int[] sessions = this.sessions;
        if (sessions[row + S_IN_USE] == 0)
        {
            return;
        }
        final int protocol = sessions[row + S_PROTOCOL];
        erase(addresses(sessions[row + S_ORIGINAL_SOURCE], sessions[row + S_ORIGINAL_DESTINATION]),
            key(sessions[row + S_ORIGINAL_PORTS], protocol, 0));
        erase(addresses(sessions[row + S_REPLY_SOURCE], sessions[row + S_REPLY_DESTINATION]),
            key(sessions[row + S_REPLY_PORTS], protocol, 0));
        final int mapping = sessions[row + S_MAPPING];
        if (mapping >= 0 && --mappings[mapping * M_FIELDS + M_SESSIONS] == 0)
        {
            deleteMapping(mapping);
        }
        unschedule(s);
        sessions[row + S_IN_USE] = 0;
        sessions[row + S_GENERATION] = (sessions[row + S_GENERATION] + 1) & 0x7FFF_FFFF;
        freeSessions[freeSessionCount++] = s;
    }

    public boolean inUse(final int s)
    {
        return sessions[s * S_FIELDS + S_IN_USE] != 0;
    }

    /** Changes each time the slot is freed: a stale reference (a fragment, a timer) checks it. */
    public int generation(final int s)
    {
        return sessions[s * S_FIELDS + S_GENERATION];
    }

    public int protocol(final int s)
    {
        return sessions[s * S_FIELDS + S_PROTOCOL];
    }

    /** Source address of the tuple of {@code direction}. */
    public int source(final int s, final int direction)
    {
        return sessions[s * S_FIELDS + (direction == ORIGINAL ? S_ORIGINAL_SOURCE : S_REPLY_SOURCE)];
    }

    public int destination(final int s, final int direction)
    {
        return sessions[s * S_FIELDS + (direction == ORIGINAL ? S_ORIGINAL_DESTINATION : S_REPLY_DESTINATION)];
    }

    public int sourcePort(final int s, final int direction)
    {
        return sessions[s * S_FIELDS + (direction == ORIGINAL ? S_ORIGINAL_PORTS : S_REPLY_PORTS)] >>> 16;
    }

    public int destinationPort(final int s, final int direction)
    {
        return sessions[s * S_FIELDS + (direction == ORIGINAL ? S_ORIGINAL_PORTS : S_REPLY_PORTS)] & 0xFFFF;
    }

    public int owner(final int s)
    {
        return sessions[s * S_FIELDS + S_OWNER];
    }

    /** Mark a session as a service's (id + 1, 0 for none), checked under services generation {@code version}. */
    public void service(final int s, final int serviceIdPlusOne, final int version)
    {
        sessions[s * S_FIELDS + S_SERVICE] = serviceIdPlusOne;
        sessions[s * S_FIELDS + S_SERVICE_VERSION] = version;
    }

    /** The service id + 1 of a load-balanced session, 0 for others. */
    public int service(final int s)
    {
        return sessions[s * S_FIELDS + S_SERVICE];
    }

    public int serviceVersion(final int s)
    {
        return sessions[s * S_FIELDS + S_SERVICE_VERSION];
    }

    public int mapping(final int s)
    {
        return sessions[s * S_FIELDS + S_MAPPING];
    }

    public int tcpState(final int s)
    {
        return sessions[s * S_FIELDS + S_TCP_STATE];
    }

    public long lastSeen(final int s)
    {
        final int row = s * S_FIELDS;
        return (long)sessions[row + S_LAST_SEEN_HIGH] << 32 | sessions[row + S_LAST_SEEN_LOW] & 0xFFFF_FFFFL;
    }

    /** A packet of the session passed: it is not idle. */
    public void touch(final int s, final long nowNanos)
    {
        final int row = s * S_FIELDS;
        sessions[row + S_LAST_SEEN_HIGH] = (int)(nowNanos >>> 32);
        sessions[row + S_LAST_SEEN_LOW] = (int)nowNanos;
    }

    /** Track the TCP state from a segment's flags seen in {@code direction}. */
    public void tcpFlags(final int s, final int direction, final int flags)
    {
        final int before = timeoutClass(s);
        int state = sessions[s * S_FIELDS + S_TCP_STATE];
        if ((flags & 0x02) != 0)
        {
            state |= direction == ORIGINAL ? TCP_SYN_ORIGINAL : TCP_SYN_REPLY;
        }
        if ((flags & 0x01) != 0)
        {
            state |= direction == ORIGINAL ? TCP_FIN_ORIGINAL : TCP_FIN_REPLY;
        }
        if ((flags & 0x04) != 0)
        {
            state |= TCP_RST;
        }
        sessions[s * S_FIELDS + S_TCP_STATE] = state;
        // Closing shortens the timeout (established 2 h 4 min to transitory 4 min): bring the timer forward so the
        // session and its port do not linger for the longer one.
        if (timeoutClass(s) != before && timerPrev[s] != UNSCHEDULED && deadline(s) < timerDue[s])
        {
            unschedule(s);
            schedule(s, deadline(s));
        }
    }

    public static boolean tcpEstablished(final int state)
    {
        return (state & (TCP_SYN_ORIGINAL | TCP_SYN_REPLY)) == (TCP_SYN_ORIGINAL | TCP_SYN_REPLY) &&
            (state & (TCP_FIN_ORIGINAL | TCP_FIN_REPLY | TCP_RST)) == 0;
    }

    /** Which timeout applies to the session now. */
    public int timeoutClass(final int s)
    {
        final int protocol = sessions[s * S_FIELDS + S_PROTOCOL];
        if (protocol == Ipv4Flyweight.PROTOCOL_TCP)
        {
            return tcpEstablished(sessions[s * S_FIELDS + S_TCP_STATE]) ?
                TIMEOUT_TCP_ESTABLISHED : TIMEOUT_TCP_TRANSITORY;
        }
        return protocol == Ipv4Flyweight.PROTOCOL_ICMP ? TIMEOUT_ICMP : TIMEOUT_UDP;
    }

    /** When the session expires if no packet comes. */
    public long deadline(final int s)
    {
        return lastSeen(s) + timeoutNanos[timeoutClass(s)];
    }

    private void schedule(final int s, final long due)
    {
        final int spoke = (int)(due >> TICK_SHIFT) & (WHEEL_SPOKES - 1);
        final int head = spokeHead[spoke];
        timerDue[s] = due;
        timerPrev[s] = -1 - spoke;
        timerNext[s] = head;
        if (head >= 0)
        {
            timerPrev[head] = s;
        }
        spokeHead[spoke] = s;
    }

    private void unschedule(final int s)
    {
        final int prev = timerPrev[s];
        if (prev == UNSCHEDULED)
        {
            return;
        }
        final int next = timerNext[s];
        if (prev < 0)
        {
            spokeHead[-1 - prev] = next;
        }
        else
        {
            timerNext[prev] = next;
        }
        if (next >= 0)
        {
            timerPrev[next] = prev;
        }
        timerPrev[s] = UNSCHEDULED;
    }

    /**
     * Fire the session timers due by {@code nowNanos} (the worker's clock), at most {@code limit}: a session idle for
     * its timeout is removed, one that saw packets since is set again for when it would be. The wheel walks the
     * spokes of the ticks that have fully passed; a jump of more than a turn walks every spoke once (each due timer
     * fires, as the check is on its time, not its spoke). Stopped by the limit, the next call resumes at the same
     * spoke.
     *
     * @return the timers that fired.
     */
    public int pollExpiry(final long nowNanos, final int limit)
    {
        final long nowTick = nowNanos >> TICK_SHIFT;
        if (wheelTick == Long.MIN_VALUE || wheelTick > nowTick)
        {
            wheelTick = nowTick;
            return 0;
        }
        int fired = 0;
        for (int walked = 0; wheelTick < nowTick; walked++)
        {
            if (walked == WHEEL_SPOKES)
            {
                wheelTick = nowTick; // a whole turn walked at this time: every timer due by now has fired
                break;
            }
            int s = spokeHead[(int)wheelTick & (WHEEL_SPOKES - 1)];
            while (s >= 0)
            {
                final int next = timerNext[s];
                if (timerDue[s] <= nowNanos)
                {
                    if (fired == limit)
                    {
                        return fired;
                    }
                    fired++;
                    unschedule(s);
                    final long deadline = deadline(s);
                    if (deadline <= nowNanos)
                    {
                        expired++;
                        delete(s);
                    }
                    else
                    {
                        schedule(s, deadline);
                    }
                }
                s = next;
            }
            wheelTick++;
        }
        return fired;
    }

    /** Sessions with a timer set (every session in use). */
    public int scheduled()
    {
        int count = 0;
        for (int spoke = 0; spoke < WHEEL_SPOKES; spoke++)
        {
            for (int s = spokeHead[spoke]; s >= 0; s = timerNext[s])
            {
                count++;
            }
        }
        return count;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Mappings

    /** The mapping of an inside endpoint, or {@link #NONE}. */
    public int mappingByInside(final int protocol, final int address, final int port)
    {
        return find(addresses(address, 0), key(port << 16, protocol, KIND_MAPPING_INSIDE));
    }

    /** The mapping holding an outside address and port, or {@link #NONE}. */
    public int mappingByOutside(final int protocol, final int address, final int port)
    {
        return find(addresses(address, 0), key(port << 16, protocol, KIND_MAPPING_OUTSIDE));
    }

    /**
     * Map an inside endpoint to {@code outsideAddress} and a free port of {@code [low, high]}: the inside port
     * itself when it is in the range and free (port preservation, like Linux), otherwise a pseudo-random free one:
     * a range of at most {@link #MAX_PORT_ATTEMPTS} ports is searched whole, a larger one with that many random
     * tries (with half the ports taken, all of them fail with probability 2^-512).
     *
     * @return the mapping, {@link #FULL} or {@link #NO_PORT}.
     */
    public int createMapping(final int protocol, final int insideAddress, final int insidePort,
        final int outsideAddress, final int low, final int high)
    {
        if (freeMappingCount == 0)
        {
            return FULL;
        }
        int port = -1;
        if (insidePort >= low && insidePort <= high &&
            mappingByOutside(protocol, outsideAddress, insidePort) == NONE)
        {
            port = insidePort;
        }
        else
        {
            final int range = high - low + 1;
            if (range <= MAX_PORT_ATTEMPTS)
            {
                // A small range is searched whole, from a pseudo-random start: exhausted means exhausted.
                final int start = (int)((nextRandom() & 0xFFFF_FFFFL) % range);
                for (int k = 0; k < range && port < 0; k++)
                {
                    final int candidate = low + (start + k) % range;
                    if (mappingByOutside(protocol, outsideAddress, candidate) == NONE)
                    {
                        port = candidate;
                    }
                }
            }
            else
            {
                // Independent pseudo-random tries (RFC 6056 style): preserved ports fill contiguous blocks, which a
                // linear probe from a random start would have to cross.
                for (int k = 0; k < MAX_PORT_ATTEMPTS && port < 0; k++)
                {
                    final int candidate = low + (int)((nextRandom() & 0xFFFF_FFFFL) % range);
                    if (mappingByOutside(protocol, outsideAddress, candidate) == NONE)
                    {
                        port = candidate;
                    }
                }
            }
        }
        if (port < 0)
        {
            return NO_PORT;
        }
        final int m = freeMappings[--freeMappingCount];
        final int row = m * M_FIELDS;
        mappings[row + M_INSIDE_ADDRESS] = insideAddress;
        mappings[row + M_INSIDE_PORT] = insidePort;
        mappings[row + M_OUTSIDE_ADDRESS] = outsideAddress;
        mappings[row + M_OUTSIDE_PORT] = port;
        mappings[row + M_PROTOCOL] = protocol;
        mappings[row + M_SESSIONS] = 0;
        insert(addresses(insideAddress, 0), key(insidePort << 16, protocol, KIND_MAPPING_INSIDE), m);
        insert(addresses(outsideAddress, 0), key(port << 16, protocol, KIND_MAPPING_OUTSIDE), m);
        return m;
    }

    private int nextRandom()
    {
        random ^= random << 13;
        random ^= random >>> 17;
        random ^= random << 5;
        return random;
    }

    private void deleteMapping(final int m)
    {
        final int row = m * M_FIELDS;
        final int protocol = mappings[row + M_PROTOCOL];
        erase(addresses(mappings[row + M_INSIDE_ADDRESS], 0),
            key(mappings[row + M_INSIDE_PORT] << 16, protocol, KIND_MAPPING_INSIDE));
        erase(addresses(mappings[row + M_OUTSIDE_ADDRESS], 0),
            key(mappings[row + M_OUTSIDE_PORT] << 16, protocol, KIND_MAPPING_OUTSIDE));
        freeMappings[freeMappingCount++] = m;
    }

    public int mappingInsideAddress(final int m)
    {
        return mappings[m * M_FIELDS + M_INSIDE_ADDRESS];
    }

    public int mappingInsidePort(final int m)
    {
        return mappings[m * M_FIELDS + M_INSIDE_PORT];
    }

    public int mappingOutsideAddress(final int m)
    {
        return mappings[m * M_FIELDS + M_OUTSIDE_ADDRESS];
    }

    public int mappingOutsidePort(final int m)
    {
        return mappings[m * M_FIELDS + M_OUTSIDE_PORT];
    }

    /** Sessions using the mapping (a mapping with none is removed). */
    public int mappingSessions(final int m)
    {
        return mappings[m * M_FIELDS + M_SESSIONS];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fragments: non-first fragments carry no ports; the first one's session is remembered by (source,
    // destination, protocol, IP id) for a while, in a small direct-mapped cache (a newer datagram may evict an
    // older one: its later fragments are then dropped and counted, never mistranslated).

    private int fragmentSlot(final long addresses, final int id)
    {
        return (int)hash.hash16(addresses, KIND_FRAGMENT | id) & (FRAGMENT_SLOTS - 1);
    }

    /** Remember that the datagram's fragments belong to the session in {@code direction}. */
    public void rememberFragments(final int source, final int destination, final int protocol,
        final int identification, final int s, final int direction, final long nowNanos)
    {
        final long addresses = addresses(source, destination);
        final int id = protocol << 16 | identification;
        final int slot = fragmentSlot(addresses, id);
        fragmentAddresses[slot] = addresses;
        fragmentIds[slot] = id;
        fragmentValues[slot] = s << 1 | direction;
        fragmentGenerations[slot] = generation(s);
        fragmentExpiry[slot] = nowNanos + FRAGMENT_TIMEOUT_NANOS;
    }

    /** @return {@code session << 1 | direction} of a datagram's first fragment, or {@link #NONE}. */
    public int fragmentSession(final int source, final int destination, final int protocol,
        final int identification, final long nowNanos)
    {
        final long addresses = addresses(source, destination);
        final int id = protocol << 16 | identification;
        final int slot = fragmentSlot(addresses, id);
        if (fragmentAddresses[slot] != addresses || fragmentIds[slot] != id || fragmentExpiry[slot] < nowNanos)
        {
            return NONE;
        }
        final int value = fragmentValues[slot];
        final int s = value >>> 1;
        return inUse(s) && generation(s) == fragmentGenerations[slot] ? value : NONE;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Control-plane views (run on the worker, through the worker proxy)

    /** Told about each session in use. */
    @FunctionalInterface
    public interface SessionVisitor
    {
        /** @return false to stop. */
        boolean visit(int session);
    }

    /** Remove every session (and so every mapping); returns how many there were. */
    public int clear()
    {
        int removed = 0;
        for (int s = 0; s < capacity; s++)
        {
            if (sessions[s * S_FIELDS + S_IN_USE] != 0)
            {
                delete(s);
                removed++;
            }
        }
        return removed;
    }

    /** Visit the sessions in use, in slot order. */
    public void forEach(final SessionVisitor visitor)
    {
        for (int s = 0; s < capacity; s++)
        {
            if (sessions[s * S_FIELDS + S_IN_USE] != 0 && !visitor.visit(s))
            {
                return;
            }
        }
    }
}
