package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgeplane.proto.Ipv4Address;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A static neighbor: the MAC of an IPv4 address reachable through a port, and on a tunnel port the underlay address
 * of the VTEP behind it (the kernel's neighbor + fdb pair, as Flannel programs them). JSON
 * {@code {"interface", "ip", "mac", "vtep"?}} in the config file, the API, the snapshot and the journal.
 */
public record NeighborConfig(String interfaceName, int address, long mac, int vtep)
{
    public NeighborConfig(final String interfaceName, final int address, final long mac)
    {
        this(interfaceName, address, mac, 0);
    }

    @JsonCreator
    public static NeighborConfig fromJson(@JsonProperty("interface") final String interfaceName,
        @JsonProperty("ip") final String ip, @JsonProperty("mac") final String mac,
        @JsonProperty("vtep") final String vtep)
    {
        Json.required(interfaceName, "interface");
        return new NeighborConfig(interfaceName, Fields.address(ip, "ip"), Fields.unicastMac(mac, "mac"),
            vtep == null ? 0 : Fields.address(vtep, "vtep"));
    }

    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("interface", interfaceName);
        json.put("ip", Ipv4Address.format(address));
        json.put("mac", Ipv4Address.formatMac(mac));
        if (vtep != 0)
        {
            json.put("vtep", Ipv4Address.format(vtep));
        }
        return json;
    }

    /**
     * The checks that need the ports (config file and API alike): a known interface, and an address on its
     * subnet that is neither the gateway's own nor the subnet's network or broadcast address (on a tunnel port, an
     * address off its subnet is an onlink next hop).
     */
    public void check(final PortView ports) throws ConfigException
    {
        final int port = ports.indexOf(interfaceName);
        if (port < 0)
        {
            throw new ConfigException("interface", "interface: unknown interface " + interfaceName);
        }
        // On a tunnel port a neighbor off its subnet is an onlink next hop (Flannel's per-node next hops).
        final boolean onlink = ports.isTunnel(port) && !ports.onLink(port, address);
        if (!ports.onLink(port, address) && !onlink || ports.ownerOf(address) >= 0)
        {
            throw new ConfigException("ip", "ip: " + Ipv4Address.format(address) + " is not a neighbor address on " +
                interfaceName);
        }
        if (ports.isTunnel(port) != (vtep != 0))
        {
            throw new ConfigException("vtep", "vtep: " + (vtep == 0 ? "a neighbor on the tunnel port " +
                interfaceName + " needs the remote VTEP's underlay address" : "only a neighbor on a tunnel port " +
                "has a VTEP"));
        }
        final int length = ports.prefixLength(port);
        final int host = address & ~Ipv4Address.mask(length);
        if (!onlink && length < 31 && (host == 0 || host == ~Ipv4Address.mask(length)))
        {
            throw new ConfigException("ip", "ip: " + Ipv4Address.format(address) + " is the network or broadcast " +
                "address of " + interfaceName);
        }
    }

    /** The key of a neighbor: (interface, ip). */
    public record Key(String interfaceName, int address)
    {
        @JsonCreator
        public static Key fromJson(@JsonProperty("interface") final String interfaceName,
            @JsonProperty("ip") final String ip)
        {
            return new Key(Json.required(interfaceName, "interface"), Fields.address(ip, "ip"));
        }

        @JsonValue
        public Map<String, Object> json()
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("interface", interfaceName);
            json.put("ip", Ipv4Address.format(address));
            return json;
        }
    }

    public Key key()
    {
        return new Key(interfaceName, address);
    }
}
