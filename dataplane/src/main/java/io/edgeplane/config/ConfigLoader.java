package io.edgeplane.config;

import io.edgeplane.proto.Ipv4Address;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates the JSON config: strict binding of the resource records ({@link Json}), then the checks
 * that span resources, which are the same ones the API runs on a change ({@link RouteConfig#check},
 * {@link NeighborConfig#check}), plus the port conflicts only a whole file can have. Errors name the field path and
 * the reason, e.g. {@code ports[1].ipv4: prefix length 33 not in 0..32}.
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
    public static final int MIN_MTU = PortConfig.MIN_MTU;
    public static final int MAX_MTU = PortConfig.MAX_MTU;
    public static final int MIN_METRIC = RouteConfig.MIN_METRIC;
    public static final int MAX_METRIC = RouteConfig.MAX_METRIC;
    /** The largest config file read; large route tables go in a route file ({@code --routes}). */
    public static final int MAX_FILE_BYTES = 64 << 20;

    private ConfigLoader()
    {
    }

    public static DataplaneConfig load(final Path path) throws ConfigException
    {
        if (Files.isDirectory(path))
        {
            throw new ConfigException(path + ": is a directory, not a config file");
        }
        final String text;
        try
        {
            text = TextFiles.read(path, MAX_FILE_BYTES);
        }
        catch (final NoSuchFileException ex)
        {
            throw new ConfigException(path + ": no such file");
        }
        catch (final TextFiles.TooLongException ex)
        {
            throw new ConfigException(path + ": " + ex.getMessage() + ", not a config file (large route tables " +
                "go in a route file: --routes)");
        }
        catch (final CharacterCodingException ex)
        {
            throw new ConfigException(path + ": not UTF-8 text (a config file is JSON, RFC 8259 §8.1)");
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
            throw ex.under(path + ": ");
        }
    }

    public static DataplaneConfig parse(final String json) throws ConfigException
    {
        if (json.isBlank() || json.stripLeading().charAt(0) != '{')
        {
            final char first = json.isBlank() ? ' ' : json.stripLeading().charAt(0);
            throw new ConfigException(first == '[' || first == '"' || Character.isDigit(first) ?
                "top level must be a JSON object" : "not valid JSON: no object");
        }
        final DataplaneConfig config = Json.bind(json, DataplaneConfig.class);
        checkPorts(config.ports());
        final PortView ports = PortView.of(config.ports());
        final Set<String> routeKeys = new HashSet<>();
        for (int i = 0; i < config.routes().size(); i++)
        {
            final RouteConfig route = config.routes().get(i);
            try
            {
                route.check(ports);
            }
            catch (final ConfigException ex)
            {
                throw ex.under("routes[" + i + "].");
            }
            if (!routeKeys.add(route.interfaceName() + " " + route.prefixText()))
            {
                throw new ConfigException("prefix", "routes[" + i + "].prefix: a second route to " +
                    route.prefixText() + " on " + route.interfaceName() + " (routes are keyed by interface and " +
                    "prefix)");
            }
        }
        final Set<String> neighborKeys = new HashSet<>();
        for (int i = 0; i < config.neighbors().size(); i++)
        {
            final NeighborConfig neighbor = config.neighbors().get(i);
            try
            {
                neighbor.check(ports);
            }
            catch (final ConfigException ex)
            {
                throw ex.under("neighbors[" + i + "].");
            }
            if (!neighborKeys.add(neighbor.interfaceName() + " " + neighbor.address()))
            {
                throw new ConfigException("ip", "neighbors[" + i + "].ip: a second entry for " +
                    Ipv4Address.format(neighbor.address()) + " on " + neighbor.interfaceName());
            }
        }
        if (config.nat() != null)
        {
            try
            {
                config.nat().check(ports, List.of());
            }
            catch (final ConfigException ex)
            {
                throw ex.under("nat.");
            }
        }
        return config.withServices(allocateServices(config.serviceNetwork(), config.services(), ports, Set.of()));
    }

    /**
     * Check services across each other and against the ports, and pick what they left out (cluster IPs, VIPs, node
     * ports): names unique, no (address, protocol, port) served twice, VIPs inside {@code externalServiceIPs}, no
     * service address that is a port's (other than the VIPs in force, {@code vips}, which ports hold as local
     * addresses so that ARP answers for them).
     */
    public static List<ServiceConfig> allocateServices(final ServiceNetworkConfig network,
        final List<ServiceConfig> services, final PortView ports, final Set<Integer> vips) throws ConfigException
    {
        final ServiceConfig.Used used = new ServiceConfig.Used();
        final Set<String> names = new HashSet<>();
        final Set<Long> frontends = new HashSet<>();
        // Addresses and node ports given explicitly are taken first, so an allocation never picks one a later
        // service names; a node port given twice is refused here (one pass, no per-service copy: thousands of
        // services learned from Kubernetes are checked at every change).
        final java.util.Map<Integer, Integer> givenNodePorts = new java.util.HashMap<>();
        for (int i = 0; i < services.size(); i++)
        {
            final ServiceConfig service = services.get(i);
            if (service.clusterIp() != 0)
            {
                used.addresses.add(service.clusterIp());
            }
            if (service.loadBalancerIp() != 0)
            {
                used.addresses.add(service.loadBalancerIp());
            }
            final Set<Integer> own = new HashSet<>();
            for (final ServiceConfig.Port port : service.ports())
            {
                final int key = port.protocol() << 16 | port.nodePort();
                if (port.nodePort() != 0 && (givenNodePorts.putIfAbsent(key, i) != null || !own.add(key)))
                {
                    throw new ConfigException("nodePort", "services[" + i + "].nodePort: " + port.nodePort() + "/" +
                        (port.protocol() == 6 ? "TCP" : "UDP") + " is already used by another service");
                }
            }
        }
        used.nodePorts.addAll(givenNodePorts.keySet());
        final List<ServiceConfig> allocated = new java.util.ArrayList<>();
        for (int i = 0; i < services.size(); i++)
        {
            final String at = "services[" + i + "].";
            final ServiceConfig given = services.get(i);
            if (!names.add(given.name()))
            {
                throw new ConfigException("name", at + "name: a second service named " + given.name());
            }
            final ServiceConfig service;
            try
            {
                service = given.allocate(network, used);
            }
            catch (final ConfigException ex)
            {
                throw ex.under(at);
            }
            if (service.loadBalancerIp() != 0 && network != null && network.externalLow() != 0 &&
                !network.external(service.loadBalancerIp()))
            {
                throw new ConfigException("loadBalancerIP", at + "loadBalancerIP: " +
                    Ipv4Address.format(service.loadBalancerIp()) + " is outside externalServiceIPs");
            }
            for (final int address : new int[] {service.clusterIp(), service.loadBalancerIp()})
            {
                if (address != 0 && ports.ownerOf(address) >= 0 && !vips.contains(address))
                {
                    throw new ConfigException("clusterIP", at + Ipv4Address.format(address) + " is an address of " +
                        ports.name(ports.ownerOf(address)));
                }
            }
            for (final ServiceConfig.Port port : service.ports())
            {
                for (final int address : new int[] {service.clusterIp(), service.loadBalancerIp()})
                {
                    if (address != 0 && !frontends.add((long)address << 32 | port.protocol() << 16 | port.port()))
                    {
                        throw new ConfigException("port", at + "ports: " + Ipv4Address.format(address) + ":" +
                            port.port() + "/" + (port.protocol() == 6 ? "TCP" : "UDP") + " is served twice");
                    }
                }
            }
            allocated.add(service);
        }
        return allocated;
    }

    /** What no single port can see: names, MACs, addresses, subnets and devices used twice (also for run-time ports). */
    public static void checkPorts(final List<PortConfig> ports) throws ConfigException
    {
        if (ports.size() > MAX_PORTS)
        {
            throw new ConfigException("ports: at most " + MAX_PORTS + " ports");
        }
        final Map<String, Integer> names = new HashMap<>();
        final Map<Long, Integer> macs = new HashMap<>();
        final Map<Integer, Integer> addresses = new HashMap<>();
        final Map<String, Integer> devices = new HashMap<>();
        for (int i = 0; i < ports.size(); i++)
        {
            final PortConfig port = ports.get(i);
            final String at = "ports[" + i + "].";
            final Integer sameName = names.putIfAbsent(port.name(), i);
            if (sameName != null)
            {
                throw new ConfigException("name", at + "name: duplicate port name " + port.name());
            }
            final Integer sameMac = macs.putIfAbsent(port.mac(), i);
            if (sameMac != null && port.vlan() == ports.get(sameMac).vlan())
            {
                throw new ConfigException("mac", at + "mac: " + Ipv4Address.formatMac(port.mac()) +
                    " is also ports[" + sameMac + "].mac");
            }
            for (final int address : allAddresses(port))
            {
                final Integer owner = addresses.putIfAbsent(address, i);
                if (owner != null)
                {
                    throw new ConfigException("ipv4", at + "ipv4: " + Ipv4Address.format(address) +
                        " is also an address of ports[" + owner + "]");
                }
            }
            for (int j = 0; j < i; j++)
            {
                final PortConfig other = ports.get(j);
                final int length = Math.min(port.prefixLength(), other.prefixLength());
                final int mask = Ipv4Address.mask(length);
                if ((port.address() & mask) == (other.address() & mask))
                {
                    throw new ConfigException("ipv4", at + "ipv4: " + Fields.prefixText(port.address(),
                        port.prefixLength()) + " overlaps ports[" + j + "].ipv4 " +
                        Fields.prefixText(other.address(), other.prefixLength()));
                }
            }
            if (port.isTunnel())
            {
                final int underlay = indexOf(ports, port.tunnel().underlay());
                if (underlay < 0 || ports.get(underlay).isTunnel())
                {
                    throw new ConfigException("underlay", at + "underlay: " + port.tunnel().underlay() + " is not " +
                        "an ethernet or vlan port of this config");
                }
                for (int j = 0; j < i; j++)
                {
                    final PortConfig other = ports.get(j);
                    if (other.isTunnel() && other.tunnel().vni() == port.tunnel().vni() &&
                        other.tunnel().udpPort() == port.tunnel().udpPort() &&
                        other.tunnel().underlay().equals(port.tunnel().underlay()))
                    {
                        throw new ConfigException("vni", at + "vni: " + port.tunnel().vni() + " on " +
                            port.tunnel().underlay() + " is also ports[" + j + "].vni");
                    }
                }
            }
            if (port.device() != null)
            {
                final String binding = port.device() + "." + port.vlan();
                final Integer sameDevice = devices.putIfAbsent(binding, i);
                if (sameDevice != null)
                {
                    throw new ConfigException("device", at + "device: " + port.device() + " is also bound by ports[" +
                        sameDevice + "]" + (port.vlan() == 0 ? "" : " on VLAN " + port.vlan()));
                }
            }
        }
    }

    private static int indexOf(final List<PortConfig> ports, final String name)
    {
        for (int i = 0; i < ports.size(); i++)
        {
            if (ports.get(i).name().equals(name))
            {
                return i;
            }
        }
        return -1;
    }

    private static int[] allAddresses(final PortConfig port)
    {
        final int[] all = new int[1 + port.addresses().size()];
        all[0] = port.address();
        for (int i = 0; i < port.addresses().size(); i++)
        {
            all[i + 1] = port.addresses().get(i);
        }
        return all;
    }

    /**
     * Parse {@code a.b.c.d/len} as a route destination: host bits must be zero.
     *
     * @return {prefix, length}
     */
    public static int[] parsePrefix(final String text, final String path) throws ConfigException
    {
        try
        {
            return Fields.prefix(text, path, false);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException(path, ex.getMessage());
        }
    }

    public static int parseAddress(final String text, final String path) throws ConfigException
    {
        try
        {
            return Fields.address(text, path);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ConfigException(path, ex.getMessage());
        }
    }
}
