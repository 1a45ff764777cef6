package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgeplane.proto.Ipv4Address;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Masquerade of the internal switch: traffic from the {@code inside} ports that leaves by the {@code outside} port
 * (or, when none is named, by the port of the best default route) is source-translated to an outside address, with
 * connection tracking so replies come back. The one JSON shape of the {@code nat} section (config file, API body and
 * answer, snapshot, journal):
 * <pre>
 * "nat": { "inside": ["Port4"], "outside": "Port2", "addresses": [], "portRange": "1024-65535",
 *          "filtering": "address-and-port-dependent", "maxSessions": 1048576,
 *          "timeouts": { "udp": 300, "tcpEstablished": 7440, "tcpTransitory": 240, "icmp": 60 } }
 * </pre>
 * The timeout floors are the RFCs' (RFC 4787 REQ-5: UDP at least 120 s; RFC 5382 REQ-5: TCP established at least
 * 2 h 4 min, transitory at least 4 min; RFC 5508 REQ-1: ICMP query at least 60 s).
 *
 * @param inside    the internal switch's ports; empty turns NAT off.
 * @param outside   the outside port, or null to follow the best default route.
 * @param addresses the outside address pool; empty means the outside port's own address.
 */
public record NatConfig(List<String> inside, String outside, List<Integer> addresses, int portLow, int portHigh,
    boolean endpointIndependentFiltering, int maxSessions, Timeouts timeouts)
{
    public static final String ADDRESS_AND_PORT_DEPENDENT = "address-and-port-dependent";
    public static final String ENDPOINT_INDEPENDENT = "endpoint-independent";
    public static final int DEFAULT_MAX_SESSIONS = 1 << 20;
    public static final int MAX_SESSIONS = 1 << 22;
    public static final int MAX_ADDRESSES = 256;

    public NatConfig
    {
        inside = List.copyOf(inside);
        addresses = List.copyOf(addresses);
    }

    /** Idle timeouts in seconds. */
    public record Timeouts(int udp, int tcpEstablished, int tcpTransitory, int icmp)
    {
        public static final Timeouts DEFAULT = new Timeouts(300, 7440, 240, 60);
        private static final int MAX = 7 * 86_400;

        @JsonCreator
        static Timeouts fromJson(@JsonProperty("udp") final Integer udp,
            @JsonProperty("tcpEstablished") final Integer tcpEstablished,
            @JsonProperty("tcpTransitory") final Integer tcpTransitory, @JsonProperty("icmp") final Integer icmp)
        {
            return new Timeouts(
                bounded(udp, DEFAULT.udp, 120, "udp", "RFC 4787 REQ-5"),
                bounded(tcpEstablished, DEFAULT.tcpEstablished, 7440, "tcpEstablished", "RFC 5382 REQ-5"),
                bounded(tcpTransitory, DEFAULT.tcpTransitory, 240, "tcpTransitory", "RFC 5382 REQ-5"),
                bounded(icmp, DEFAULT.icmp, 60, "icmp", "RFC 5508 REQ-1"));
        }

        private static int bounded(final Integer value, final int defaultValue, final int min, final String field,
            final String rfc)
        {
            final int v = value == null ? defaultValue : value;
            if (v < min || v > MAX)
            {
                throw new IllegalArgumentException(field + ": " + v + " s not in " + min + ".." + MAX + " (" + rfc +
                    " sets the floor)");
            }
            return v;
        }
    }

    @JsonCreator
    public static NatConfig fromJson(@JsonProperty("inside") final List<String> inside,
        @JsonProperty("outside") final String outside,
        @JsonProperty("addresses") final List<String> addresses,
        @JsonProperty("portRange") final String portRange,
        @JsonProperty("filtering") final String filtering,
        @JsonProperty("maxSessions") final Integer maxSessions,
        @JsonProperty("timeouts") final Timeouts timeouts,
        @JsonProperty("enabled") final Boolean enabled)
    {
        Json.required(inside, "inside");
        // Shown by GET; NAT is on exactly when inside names ports. Given back, it must agree (no silent ignoring of a
        // "false" that was meant to turn NAT off).
        if (enabled != null && enabled == inside.isEmpty())
        {
            throw new IllegalArgumentException("enabled: " + enabled + ", but inside is " + inside + " (NAT is on " +
                "exactly when inside names ports: PUT \"inside\": [] to turn it off)");
        }
        for (final String name : inside)
        {
            if (name == null || name.isEmpty())
            {
                throw new IllegalArgumentException("inside: port names must be non-empty strings");
            }
        }
        if (outside != null && outside.isEmpty())
        {
            throw new IllegalArgumentException("outside: must be a port name (leave it out to follow the default " +
                "route)");
        }
        final List<Integer> pool = new ArrayList<>();
        if (addresses != null)
        {
            if (addresses.size() > MAX_ADDRESSES)
            {
                throw new IllegalArgumentException("addresses: at most " + MAX_ADDRESSES + " addresses");
            }
            for (final String text : addresses)
            {
                final int address = Fields.address(text, "addresses");
                final int high = address >>> 24;
                if (high == 0 || high == 127 || high >= 224 || (address & 0xFFFF_0000) == 0xA9FE_0000)
                {
                    throw new IllegalArgumentException("addresses: " + text + " is not a unicast address");
                }
                if (pool.contains(address))
                {
                    throw new IllegalArgumentException("addresses: " + text + " is listed twice");
                }
                pool.add(address);
            }
        }
        final int[] range = portRange(portRange == null ? "1024-65535" : portRange);
        final boolean independent;
        if (filtering == null || ADDRESS_AND_PORT_DEPENDENT.equals(filtering))
        {
            independent = false;
        }
        else if (ENDPOINT_INDEPENDENT.equals(filtering))
        {
            independent = true;
        }
        else
        {
            throw new IllegalArgumentException("filtering: must be " + ADDRESS_AND_PORT_DEPENDENT + " or " +
                ENDPOINT_INDEPENDENT + ", not " + filtering);
        }
        final int sessions = Fields.range(maxSessions, DEFAULT_MAX_SESSIONS, 1, MAX_SESSIONS, "maxSessions");
        return new NatConfig(inside, outside, pool, range[0], range[1], independent, sessions,
            timeouts == null ? Timeouts.DEFAULT : timeouts);
    }

    private static int[] portRange(final String text)
    {
        final int dash = text.indexOf('-');
        try
        {
            final int low = Integer.parseInt(dash < 0 ? text : text.substring(0, dash).strip());
            final int high = dash < 0 ? low : Integer.parseInt(text.substring(dash + 1).strip());
            if (low < 1 || high > 65535 || low > high)
            {
                throw new IllegalArgumentException("portRange: " + text + " must be low-high within 1-65535");
            }
            return new int[] {low, high};
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("portRange: " + text + " is not low-high (e.g. 1024-65535)");
        }
    }

    public boolean enabled()
    {
        return !inside.isEmpty();
    }

    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("inside", inside);
        if (outside != null)
        {
            json.put("outside", outside);
        }
        final List<String> pool = new ArrayList<>();
        addresses.forEach(a -> pool.add(Ipv4Address.format(a)));
        json.put("addresses", pool);
        json.put("portRange", portLow + "-" + portHigh);
        json.put("filtering", endpointIndependentFiltering ? ENDPOINT_INDEPENDENT : ADDRESS_AND_PORT_DEPENDENT);
        json.put("maxSessions", maxSessions);
        final Map<String, Object> t = new LinkedHashMap<>();
        t.put("udp", timeouts.udp());
        t.put("tcpEstablished", timeouts.tcpEstablished());
        t.put("tcpTransitory", timeouts.tcpTransitory());
        t.put("icmp", timeouts.icmp());
        json.put("timeouts", t);
        return json;
    }

    /**
     * The checks that need the ports (config file and API): known ports, inside and outside apart, a pool of
     * addresses no port has (besides those of {@code current}, the pool in force, which the outside port holds).
     */
    public void check(final PortView ports, final List<Integer> current) throws ConfigException
    {
        final Set<String> seen = new HashSet<>();
        for (final String name : inside)
        {
            if (ports.indexOf(name) < 0)
            {
                throw new ConfigException("inside", "inside: unknown port " + name);
            }
            if (!seen.add(name))
            {
                throw new ConfigException("inside", "inside: " + name + " is listed twice");
            }
        }
        if (outside != null)
        {
            if (ports.indexOf(outside) < 0)
            {
                throw new ConfigException("outside", "outside: unknown port " + outside);
            }
            if (seen.contains(outside))
            {
                throw new ConfigException("outside", "outside: " + outside + " is also an inside port");
            }
        }
        for (final int address : addresses)
        {
            final int owner = ports.ownerOf(address);
            if (owner >= 0 && !current.contains(address))
            {
                throw new ConfigException("addresses", "addresses: " + Ipv4Address.format(address) +
                    " is already an address of " + ports.name(owner));
            }
        }
    }
}
