package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgeplane.proto.Ipv4Address;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A route as users know it from {@code Add-HcsNetRoute}: interface, destination prefix/length, next hop, metric.
 * A next hop of 0.0.0.0 means "directly connected on that interface". The one JSON shape of a route (config file,
 * API body and answer, snapshot, journal op): {@code {"interface", "prefix", "nextHop", "metric"}}; the API's
 * earlier names {@code destinationPrefix} and {@code routeMetric} are accepted as aliases.
 */
public record RouteConfig(String interfaceName, int prefix, int prefixLength, int nextHop, int metric)
{
    public static final int DEFAULT_METRIC = 100;
    public static final int MIN_METRIC = 1;
    public static final int MAX_METRIC = 9999;

    @JsonCreator
    public static RouteConfig fromJson(@JsonProperty("interface") final String interfaceName,
        @JsonProperty("prefix") @JsonAlias("destinationPrefix") final String prefix,
        @JsonProperty("nextHop") final String nextHop,
        @JsonProperty("metric") @JsonAlias("routeMetric") final Integer metric)
    {
        Json.required(interfaceName, "interface");
        final int[] p = Fields.prefix(prefix, "prefix", false);
        final int hop = nextHop == null ? 0 : Fields.address(nextHop, "nextHop");
        return new RouteConfig(interfaceName, p[0], p[1], hop, metric == null ? DEFAULT_METRIC : metric);
    }

    public String prefixText()
    {
        return Fields.prefixText(prefix, prefixLength);
    }

    /** The JSON shape. */
    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("interface", interfaceName);
        json.put("prefix", Fields.prefixText(prefix, prefixLength));
        json.put("nextHop", Ipv4Address.format(nextHop));
        json.put("metric", metric);
        return json;
    }

    /** The checks that need the ports; the config file and the API both run them. */
    public void check(final PortView ports) throws ConfigException
    {
        final int port = ports.indexOf(interfaceName);
        if (port < 0)
        {
            throw new ConfigException("interface", "interface: unknown interface " + interfaceName);
        }
        validate(ports, port, prefix, prefixLength, nextHop, metric);
    }

    /**
     * Check a route given by values: prefix, metric, and (with ports) its next hop on the interface's subnet and not
     * the gateway's own address. The message starts with the field.
     */
    public static void validate(final PortView ports, final int port, final int prefix, final int length,
        final int nextHop, final int metric) throws ConfigException
    {
        if (length < 0 || length > 32)
        {
            throw new ConfigException("prefix", "prefix: prefix length " + length + " not in 0..32");
        }
        if ((prefix & ~Ipv4Address.mask(length)) != 0)
        {
            throw new ConfigException("prefix", "prefix: host bits set in " + Fields.prefixText(prefix, length));
        }
        if (metric < MIN_METRIC || metric > MAX_METRIC)
        {
            throw new ConfigException("metric", "metric: " + metric + " not in " + MIN_METRIC + ".." + MAX_METRIC);
        }
        if (ports == null)
        {
            return;
        }
        if (port < 0)
        {
            throw new ConfigException("interface", "interface: unknown interface");
        }
        // A tunnel is point-to-multipoint: a next hop off its subnet is "onlink" there, as Flannel routes another
        // node's pods (10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink); its neighbor entry names the VTEP.
        final boolean onlink = nextHop != 0 && ports.isTunnel(port) && !ports.onLink(port, nextHop);
        if (nextHop != 0 && !ports.onLink(port, nextHop) && !onlink)
        {
            throw new ConfigException("nextHop", "nextHop: " + Ipv4Address.format(nextHop) +
                " is not reachable through " + ports.name(port) + " (" +
                Fields.prefixText(ports.address(port), ports.prefixLength(port)) + ")");
        }
        if (nextHop != 0 && ports.ownerOf(nextHop) >= 0)
        {
            throw new ConfigException("nextHop", "nextHop: " + Ipv4Address.format(nextHop) +
                " is the gateway's own address");
        }
        final int subnetLength = ports.prefixLength(port);
        final int host = nextHop & ~Ipv4Address.mask(subnetLength);
        if (nextHop != 0 && !onlink && subnetLength < 31 && (host == 0 || host == ~Ipv4Address.mask(subnetLength)))
        {
            throw new ConfigException("nextHop", "nextHop: " + Ipv4Address.format(nextHop) + " is the network or " +
                "broadcast address of " + ports.name(port));
        }
    }

    /** The key of a route: (interface, prefix). */
    public record Key(String interfaceName, int prefix, int prefixLength)
    {
        @JsonCreator
        public static Key fromJson(@JsonProperty("interface") final String interfaceName,
            @JsonProperty("prefix") @JsonAlias("destinationPrefix") final String prefix)
        {
            Json.required(interfaceName, "interface");
            final int[] p = Fields.prefix(prefix, "prefix", false);
            return new Key(interfaceName, p[0], p[1]);
        }

        @JsonValue
        public Map<String, Object> json()
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("interface", interfaceName);
            json.put("prefix", Fields.prefixText(prefix, prefixLength));
            return json;
        }
    }

    public Key key()
    {
        return new Key(interfaceName, prefix, prefixLength);
    }
}
