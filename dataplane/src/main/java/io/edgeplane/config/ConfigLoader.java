package io.edgeplane.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.proto.Ipv4Address;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads and validates the JSON config. Strict: unknown fields, wrong types and out-of-range values are errors
 * whose message names the field path and the reason, e.g. {@code ports[1].ipv4: prefix length 33 not in 0..32}.
 * <pre>
 * {
 *   "ports": [ { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "mtu": 1500,
 *                "vlan": 0, "device": "veth-p1", "adminUp": true } ],
 *   "routes": [ { "interface": "Port2", "prefix": "192.168.20.0/24", "nextHop": "10.2.0.254", "metric": 100 } ],
 *   "neighbors": [ { "interface": "Port2", "ip": "10.2.0.254", "mac": "02:00:00:00:02:fe" } ],
 *   "flowHashSeed": 0
 * }
 * </pre>
 */
public final class ConfigLoader
{
    public static final int MAX_PORTS = 64;
    public static final int MIN_MTU = 68;
    public static final int MAX_MTU = 9216;
    public static final int MIN_METRIC = 1;
    public static final int MAX_METRIC = 9999;

    private static final ObjectMapper MAPPER = new ObjectMapper()
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private ConfigLoader()
    {
    }

    public static DataplaneConfig load(final Path path) throws ConfigException
    {
        final String text;
        try
        {
            text = Files.readString(path);
        }
        catch (final NoSuchFileException ex)
        {
            throw new ConfigException(path + ": no such file");
        }
        catch (final IOException ex)
        {
            throw new ConfigException(path + ": cannot read: " + ex.getMessage());
        }
        try
        {
            return parse(text);
        }
        catch (final ConfigException ex)
        {
            throw new ConfigException(path + ": " + ex.getMessage());
        }
    }

    public static DataplaneConfig parse(final String json) throws ConfigException
    {
        final JsonNode root;
        try
        {
            root = MAPPER.readTree(json);
        }
        catch (final JsonProcessingException ex)
        {
            throw new ConfigException("not valid JSON: " + ex.getOriginalMessage() + locationOf(ex));
        }
        if (root == null || !root.isObject())
        {
            throw new ConfigException("top level must be a JSON object");
        }
        checkFields(root, "", Set.of("ports", "routes", "neighbors", "flowHashSeed"));

        final List<PortConfig> ports = new ArrayList<>();
        final JsonNode portsNode = root.get("ports");
        if (portsNode == null || !portsNode.isArray() || portsNode.isEmpty())
        {
            throw new ConfigException("ports: must be a non-empty array");
        }
        if (portsNode.size() > MAX_PORTS)
        {
            throw new ConfigException("ports: at most " + MAX_PORTS + " ports");
        }
        final Set<String> names = new HashSet<>();
        for (int i = 0; i < portsNode.size(); i++)
        {
            final PortConfig port = parsePort(portsNode.get(i), "ports[" + i + "]");
            if (!names.add(port.name()))
            {
                throw new ConfigException("ports[" + i + "].name: duplicate port name " + port.name());
            }
            ports.add(port);
        }

        final List<NeighborConfig> neighbors = new ArrayList<>();
        final JsonNode neighborsNode = root.get("neighbors");
        if (neighborsNode != null)
        {
            requireArray(neighborsNode, "neighbors");
            for (int i = 0; i < neighborsNode.size(); i++)
            {
                neighbors.add(parseNeighbor(neighborsNode.get(i), "neighbors[" + i + "]", ports));
            }
        }

        final List<RouteConfig> routes = new ArrayList<>();
        final JsonNode routesNode = root.get("routes");
        if (routesNode != null)
        {
            requireArray(routesNode, "routes");
            for (int i = 0; i < routesNode.size(); i++)
            {
                routes.add(parseRoute(routesNode.get(i), "routes[" + i + "]", ports));
            }
        }

        int seed = 0;
        final JsonNode seedNode = root.get("flowHashSeed");
        if (seedNode != null)
        {
            if (!seedNode.canConvertToInt() || !seedNode.isIntegralNumber())
            {
                throw new ConfigException("flowHashSeed: must be a 32-bit integer");
            }
            seed = seedNode.intValue();
        }
        return new DataplaneConfig(ports, routes, neighbors, seed);
    }

    private static PortConfig parsePort(final JsonNode node, final String path) throws ConfigException
    {
        requireObject(node, path);
        checkFields(node, path + ".", Set.of("name", "mac", "ipv4", "mtu", "vlan", "device", "adminUp"));
        final String name = requiredText(node, path, "name");
        if (!name.matches("[A-Za-z][A-Za-z0-9_.-]{0,31}"))
        {
            throw new ConfigException(path + ".name: '" + name +
                "' must start with a letter and hold at most 32 letters, digits, '_', '.', '-'");
        }
        final long mac;
        try
        {
            mac = Ipv4Address.parseMac(requiredText(node, path, "mac"));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException(path + ".mac: " + ex.getMessage());
        }
        if ((mac & 0x0100_0000_0000L) != 0 || mac == 0)
        {
            throw new ConfigException(path + ".mac: must be a unicast, non-zero MAC");
        }
        final String ipv4 = requiredText(node, path, "ipv4");
        final int slash = ipv4.indexOf('/');
        if (slash < 0)
        {
            throw new ConfigException(path + ".ipv4: expected address/prefix-length, got " + ipv4);
        }
        final int address = parseAddress(ipv4.substring(0, slash), path + ".ipv4");
        final int prefixLength = parsePrefixLength(ipv4.substring(slash + 1), path + ".ipv4", ipv4);
        if (prefixLength < 1)
        {
            throw new ConfigException(path + ".ipv4: a port prefix must be /1 to /32, got " + ipv4);
        }
        final int mask = Ipv4Address.mask(prefixLength);
        if (prefixLength < 31 && ((address & ~mask) == 0 || (address & ~mask) == ~mask))
        {
            throw new ConfigException(path + ".ipv4: " + ipv4 + " is the network or broadcast address");
        }
        final int mtu = optionalInt(node, path, "mtu", 1500, MIN_MTU, MAX_MTU);
        final int vlan = optionalInt(node, path, "vlan", 0, 0, 4094);
        final String device = node.has("device") ? requiredText(node, path, "device") : null;
        boolean adminUp = true;
        if (node.has("adminUp"))
        {
            if (!node.get("adminUp").isBoolean())
            {
                throw new ConfigException(path + ".adminUp: must be true or false");
            }
            adminUp = node.get("adminUp").booleanValue();
        }
        return new PortConfig(name, mac, address, prefixLength, mtu, vlan, device, adminUp);
    }

    private static NeighborConfig parseNeighbor(final JsonNode node, final String path, final List<PortConfig> ports)
        throws ConfigException
    {
        requireObject(node, path);
        checkFields(node, path + ".", Set.of("interface", "ip", "mac"));
        final String port = requiredText(node, path, "interface");
        requirePort(port, path + ".interface", ports);
        final int address = parseAddress(requiredText(node, path, "ip"), path + ".ip");
        final long mac;
        try
        {
            mac = Ipv4Address.parseMac(requiredText(node, path, "mac"));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException(path + ".mac: " + ex.getMessage());
        }
        if ((mac & 0x0100_0000_0000L) != 0)
        {
            throw new ConfigException(path + ".mac: a neighbor MAC must be unicast");
        }
        return new NeighborConfig(port, address, mac);
    }

    private static RouteConfig parseRoute(final JsonNode node, final String path, final List<PortConfig> ports)
        throws ConfigException
    {
        requireObject(node, path);
        checkFields(node, path + ".", Set.of("interface", "prefix", "nextHop", "metric"));
        final String port = requiredText(node, path, "interface");
        requirePort(port, path + ".interface", ports);
        final String prefixText = requiredText(node, path, "prefix");
        final int[] prefix = parsePrefix(prefixText, path + ".prefix");
        final int nextHop = node.has("nextHop") ?
            parseAddress(requiredText(node, path, "nextHop"), path + ".nextHop") : 0;
        final int metric = optionalInt(node, path, "metric", 100, MIN_METRIC, MAX_METRIC);
        for (final PortConfig p : ports)
        {
            if (p.name().equals(port) && nextHop != 0)
            {
                final int mask = Ipv4Address.mask(p.prefixLength());
                if ((nextHop & mask) != (p.address() & mask))
                {
                    throw new ConfigException(path + ".nextHop: " + Ipv4Address.format(nextHop) +
                        " is not reachable through " + port + " (" + Ipv4Address.format(p.address()) + "/" +
                        p.prefixLength() + ")");
                }
                if (nextHop == p.address())
                {
                    throw new ConfigException(path + ".nextHop: " + Ipv4Address.format(nextHop) +
                        " is the gateway's own address");
                }
            }
        }
        return new RouteConfig(port, prefix[0], prefix[1], nextHop, metric);
    }

    /**
     * Parse {@code a.b.c.d/len} as a route destination: host bits must be zero.
     *
     * @return {prefix, length}
     */
    public static int[] parsePrefix(final String text, final String path) throws ConfigException
    {
        final int slash = text.indexOf('/');
        if (slash < 0)
        {
            throw new ConfigException(path + ": expected prefix/length, got " + text);
        }
        final int address = parseAddress(text.substring(0, slash), path);
        final int length = parsePrefixLength(text.substring(slash + 1), path, text);
        if ((address & ~Ipv4Address.mask(length)) != 0)
        {
            throw new ConfigException(path + ": host bits set in " + text + " (did you mean " +
                Ipv4Address.format(address & Ipv4Address.mask(length)) + "/" + length + "?)");
        }
        return new int[] {address, length};
    }

    public static int parseAddress(final String text, final String path) throws ConfigException
    {
        try
        {
            return Ipv4Address.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException(path + ": " + ex.getMessage());
        }
    }

    private static int parsePrefixLength(final String text, final String path, final String whole)
        throws ConfigException
    {
        if (text.isEmpty() || text.length() > 2 || !text.chars().allMatch(Character::isDigit))
        {
            throw new ConfigException(path + ": bad prefix length in " + whole);
        }
        final int length = Integer.parseInt(text);
        if (length > 32)
        {
            throw new ConfigException(path + ": prefix length " + length + " not in 0..32 in " + whole);
        }
        return length;
    }

    private static void requirePort(final String name, final String path, final List<PortConfig> ports)
        throws ConfigException
    {
        for (final PortConfig port : ports)
        {
            if (port.name().equals(name))
            {
                return;
            }
        }
        throw new ConfigException(path + ": unknown interface " + name);
    }

    private static void checkFields(final JsonNode node, final String path, final Set<String> allowed)
        throws ConfigException
    {
        final Iterator<String> names = node.fieldNames();
        while (names.hasNext())
        {
            final String name = names.next();
            if (!allowed.contains(name))
            {
                throw new ConfigException(path + name + ": unknown field (allowed: " +
                    String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private static void requireObject(final JsonNode node, final String path) throws ConfigException
    {
        if (node == null || !node.isObject())
        {
            throw new ConfigException(path + ": must be a JSON object");
        }
    }

    private static void requireArray(final JsonNode node, final String path) throws ConfigException
    {
        if (!node.isArray())
        {
            throw new ConfigException(path + ": must be an array");
        }
    }

    private static String requiredText(final JsonNode node, final String path, final String field)
        throws ConfigException
    {
        final JsonNode value = node.get(field);
        if (value == null || value.isNull())
        {
            throw new ConfigException(path + "." + field + ": missing");
        }
        if (!value.isTextual())
        {
            throw new ConfigException(path + "." + field + ": must be a string");
        }
        return value.textValue();
    }

    private static int optionalInt(
        final JsonNode node, final String path, final String field, final int defaultValue, final int min,
        final int max) throws ConfigException
    {
        final JsonNode value = node.get(field);
        if (value == null)
        {
            return defaultValue;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt())
        {
            throw new ConfigException(path + "." + field + ": must be an integer");
        }
        final int v = value.intValue();
        if (v < min || v > max)
        {
            throw new ConfigException(path + "." + field + ": " + v + " not in " + min + ".." + max);
        }
        return v;
    }

    private static String locationOf(final JsonProcessingException ex)
    {
        return ex.getLocation() == null ? "" :
            " (line " + ex.getLocation().getLineNr() + ", column " + ex.getLocation().getColumnNr() + ")";
    }
}
