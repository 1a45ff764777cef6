package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgeplane.proto.Ipv4Address;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A Kubernetes Service as the dataplane serves it; the field names follow the Service spec on purpose:
 * <pre>
 * { "name": "web", "type": "LoadBalancer", "clusterIP": "10.96.0.10", "loadBalancerIP": "203.0.113.100",
 *   "ports": [ { "name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080 } ],
 *   "backends": [ { "ip": "10.4.0.2", "ready": true }, { "ip": "10.244.2.5", "ready": true } ] }
 * </pre>
 * {@code clusterIP}, {@code loadBalancerIP} and {@code nodePort} may be left out: {@link #allocate} picks them from
 * the {@link ServiceNetworkConfig} as Kubernetes and MetalLB do (0 until then).
 */
public record ServiceConfig(String name, String type, int clusterIp, int loadBalancerIp, List<Port> ports,
    String sessionAffinity, int affinityTimeoutSeconds, List<Backend> backends, boolean allocateLoadBalancerNodePorts)
{
    public static final String CLIENT_IP = "ClientIP";
    /** Kubernetes' default {@code sessionAffinityConfig.clientIP.timeoutSeconds}. */
    public static final int DEFAULT_AFFINITY_TIMEOUT = 10_800;

    public ServiceConfig(final String name, final String type, final int clusterIp, final int loadBalancerIp,
        final List<Port> ports, final String sessionAffinity, final List<Backend> backends)
    {
        this(name, type, clusterIp, loadBalancerIp, ports, sessionAffinity, DEFAULT_AFFINITY_TIMEOUT, backends, true);
    }

    public ServiceConfig(final String name, final String type, final int clusterIp, final int loadBalancerIp,
        final List<Port> ports, final String sessionAffinity, final int affinityTimeoutSeconds,
        final List<Backend> backends)
    {
        this(name, type, clusterIp, loadBalancerIp, ports, sessionAffinity, affinityTimeoutSeconds, backends, true);
    }

    /** {@code sessionAffinityConfig} as in the Service spec: {@code {"clientIP": {"timeoutSeconds": 10800}}}. */
    public record AffinityConfig(ClientIp clientIP)
    {
        /** The client-IP affinity settings. */
        public record ClientIp(Integer timeoutSeconds)
        {
        }
    }
    public static final String CLUSTER_IP = "ClusterIP";
    public static final String NODE_PORT = "NodePort";
    public static final String LOAD_BALANCER = "LoadBalancer";
    public static final int NODE_PORT_MIN = 30000;
    public static final int NODE_PORT_MAX = 32767;

    public ServiceConfig
    {
        ports = List.copyOf(ports);
        backends = List.copyOf(backends);
    }

    /** One service port: protocol 6 (TCP) or 17 (UDP); {@code nodePort} 0 when none (ClusterIP) or not yet given. */
    public record Port(String name, int protocol, int port, int targetPort, int nodePort)
    {
        @JsonCreator
        static Port fromJson(@JsonProperty("name") final String name, @JsonProperty("protocol") final String protocol,
            @JsonProperty("port") final Integer port, @JsonProperty("targetPort") final Integer targetPort,
            @JsonProperty("nodePort") final Integer nodePort)
        {
            final String p = protocol == null ? "TCP" : protocol.toUpperCase(Locale.ROOT);
            final int number = switch (p)
            {
                case "TCP" -> 6;
                case "UDP" -> 17;
                default -> throw new IllegalArgumentException("protocol: must be TCP or UDP, not " + protocol);
            };
            final int servicePort = Fields.range(Json.required(port, "port"), 0, 1, 65535, "port");
            final int target = Fields.range(targetPort, servicePort, 1, 65535, "targetPort");
            if (nodePort != null && (nodePort < NODE_PORT_MIN || nodePort > NODE_PORT_MAX))
            {
                throw new IllegalArgumentException("nodePort: " + nodePort + " not in " + NODE_PORT_MIN + ".." +
                    NODE_PORT_MAX);
            }
            return new Port(name == null ? "" : name, number, servicePort, target, nodePort == null ? 0 : nodePort);
        }

        @JsonValue
        public Map<String, Object> json()
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            if (!name.isEmpty())
            {
                json.put("name", name);
            }
            json.put("protocol", protocol == 6 ? "TCP" : "UDP");
            json.put("port", port);
            json.put("targetPort", targetPort);
            if (nodePort != 0)
            {
                json.put("nodePort", nodePort);
            }
            return json;
        }
    }

    /** A pod backing the service (the Endpoints): only ready ones get new flows. */
    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    public record Backend(int ip, boolean ready, int weight)
    {
        @JsonCreator
        static Backend fromJson(@JsonProperty("ip") final String ip, @JsonProperty("ready") final Boolean ready,
            @JsonProperty("weight") final Integer weight)
        {
            final int address = Fields.address(ip, "ip");
            final int high = address >>> 24;
            if (high == 0 || high == 127 || high >= 224)
            {
                throw new IllegalArgumentException("ip: " + ip + " is not a unicast address");
            }
            return new Backend(address, ready == null || ready, Fields.range(weight, 1, 1, 100, "weight"));
        }

        @JsonValue
        public Map<String, Object> json()
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("ip", Ipv4Address.format(ip));
            json.put("ready", ready);
            if (weight != 1)
            {
                json.put("weight", weight);
            }
            return json;
        }
    }

    @JsonCreator
    public static ServiceConfig fromJson(@JsonProperty("name") final String name,
        @JsonProperty("type") final String type, @JsonProperty("clusterIP") final String clusterIp,
        @JsonProperty("loadBalancerIP") final String loadBalancerIp, @JsonProperty("ports") final List<Port> ports,
        @JsonProperty("sessionAffinity") final String sessionAffinity,
        @JsonProperty("sessionAffinityConfig") final AffinityConfig affinityConfig,
        @JsonProperty("backends") final List<Backend> backends,
        @JsonProperty("allocateLoadBalancerNodePorts") final Boolean allocateNodePorts)
    {
        Json.required(name, "name");
        if (!name.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"))
        {
            throw new IllegalArgumentException("name: " + name + " is not a DNS-1123 name (lower case, digits, -, .)");
        }
        final String kind = type == null ? CLUSTER_IP : type;
        if (!List.of(CLUSTER_IP, NODE_PORT, LOAD_BALANCER).contains(kind))
        {
            throw new IllegalArgumentException("type: must be ClusterIP, NodePort or LoadBalancer, not " + type);
        }
        if (ports == null || ports.isEmpty())
        {
            throw new IllegalArgumentException("ports: at least one port");
        }
        if (loadBalancerIp != null && !LOAD_BALANCER.equals(kind))
        {
            throw new IllegalArgumentException("loadBalancerIP: only for type LoadBalancer");
        }
        if (allocateNodePorts != null && !LOAD_BALANCER.equals(kind))
        {
            throw new IllegalArgumentException("allocateLoadBalancerNodePorts: only for type LoadBalancer");
        }
        for (final Port port : ports)
        {
            if (port.nodePort() != 0 && CLUSTER_IP.equals(kind))
            {
                throw new IllegalArgumentException("nodePort: not for type ClusterIP");
            }
        }
        final String affinity = sessionAffinity == null ? "None" : sessionAffinity;
        if (!"None".equals(affinity) && !CLIENT_IP.equals(affinity))
        {
            throw new IllegalArgumentException("sessionAffinity: must be None or ClientIP, not " + sessionAffinity);
        }
        final Integer timeout = affinityConfig == null || affinityConfig.clientIP() == null ? null :
            affinityConfig.clientIP().timeoutSeconds();
        return new ServiceConfig(name, kind, clusterIp == null ? 0 : Fields.address(clusterIp, "clusterIP"),
            loadBalancerIp == null ? 0 : Fields.address(loadBalancerIp, "loadBalancerIP"), ports, affinity,
            Fields.range(timeout, DEFAULT_AFFINITY_TIMEOUT, 1, 86_400, "timeoutSeconds"),
            backends == null ? List.of() : backends, allocateNodePorts == null || allocateNodePorts);
    }

    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("type", type);
        if (clusterIp != 0)
        {
            json.put("clusterIP", Ipv4Address.format(clusterIp));
        }
        if (loadBalancerIp != 0)
        {
            json.put("loadBalancerIP", Ipv4Address.format(loadBalancerIp));
        }
        json.put("ports", ports);
        json.put("sessionAffinity", sessionAffinity);
        if (CLIENT_IP.equals(sessionAffinity))
        {
            json.put("sessionAffinityConfig", Map.of("clientIP", Map.of("timeoutSeconds", affinityTimeoutSeconds)));
        }
        json.put("backends", backends);
        if (!allocateLoadBalancerNodePorts)
        {
            json.put("allocateLoadBalancerNodePorts", false);
        }
        return json;
    }

    public boolean nodePorts()
    {
        return !CLUSTER_IP.equals(type);
    }

    /**
     * True when a port without a {@code nodePort} gets one picked: NodePort services, and LoadBalancer ones unless
     * {@code "allocateLoadBalancerNodePorts": false} (as in the Service spec: the VIP alone, no node ports).
     */
    public boolean allocatesNodePorts()
    {
        return NODE_PORT.equals(type) || LOAD_BALANCER.equals(type) && allocateLoadBalancerNodePorts;
    }

    public boolean loadBalancer()
    {
        return LOAD_BALANCER.equals(type);
    }

    /**
     * This service with what was left out picked (Kubernetes and MetalLB style): the first free address of the
     * service CIDR for {@code clusterIP} (its network address and .1 are never given), the first free address of the
     * external range for {@code loadBalancerIP}, the first free node port. {@code used} holds what the services give
     * (addresses and node ports, this one's included, checked across services by the caller) and gets what is
     * picked here.
     */
    public ServiceConfig allocate(final ServiceNetworkConfig network, final Used used) throws ConfigException
    {
        int cluster = clusterIp;
        if (cluster == 0)
        {
            if (network == null)
            {
                throw new ConfigException("clusterIP", "clusterIP: missing, and no serviceNetwork.serviceCIDR to " +
                    "pick one from");
            }
            cluster = network.firstFree(network.serviceCidr() + 2, network.serviceCidrLast() - 1, used.addresses);
            if (cluster == 0)
            {
                throw new ConfigException("clusterIP", "clusterIP: serviceCIDR is exhausted");
            }
        }
        int balancer = loadBalancerIp;
        if (loadBalancer() && balancer == 0)
        {
            if (network == null || network.externalLow() == 0)
            {
                throw new ConfigException("loadBalancerIP", "loadBalancerIP: missing, and no " +
                    "serviceNetwork.externalServiceIPs to pick one from");
            }
            balancer = network.firstFree(network.externalLow(), network.externalHigh(), used.addresses);
            if (balancer == 0)
            {
                throw new ConfigException("loadBalancerIP", "loadBalancerIP: externalServiceIPs is exhausted");
            }
        }
        final List<Port> withNodePorts = new ArrayList<>();
        for (final Port port : ports)
        {
            int nodePort = port.nodePort();
            if (allocatesNodePorts() && nodePort == 0)
            {
                for (int candidate = NODE_PORT_MIN; candidate <= NODE_PORT_MAX && nodePort == 0; candidate++)
                {
                    if (!used.nodePorts.contains(port.protocol() << 16 | candidate))
                    {
                        nodePort = candidate;
                    }
                }
                if (nodePort == 0)
                {
                    throw new ConfigException("nodePort", "nodePort: 30000-32767 is exhausted");
                }
            }
            // A given node port is already in used (checked across services by the caller); a picked one is new.
            if (port.nodePort() == 0 && nodePort != 0 && !used.nodePorts.add(port.protocol() << 16 | nodePort))
            {
                throw new ConfigException("nodePort", "nodePort: " + nodePort + "/" + (port.protocol() == 6 ?
                    "TCP" : "UDP") + " is already used by another service");
            }
            withNodePorts.add(new Port(port.name(), port.protocol(), port.port(), port.targetPort(), nodePort));
        }
        used.addresses.add(cluster);
        if (balancer != 0)
        {
            used.addresses.add(balancer);
        }
        if (cluster == clusterIp && balancer == loadBalancerIp && withNodePorts.equals(ports))
        {
            return this; // nothing was missing: the same object, which lets the tables built for it be reused
        }
        return new ServiceConfig(name, type, cluster, balancer, withNodePorts, sessionAffinity, affinityTimeoutSeconds,
            backends, allocateLoadBalancerNodePorts);
    }

    /** What services already hold: addresses (cluster IPs and VIPs) and node ports ({@code protocol << 16 | port}). */
    public static final class Used
    {
        final java.util.Set<Integer> addresses = new java.util.HashSet<>();
        final java.util.Set<Integer> nodePorts = new java.util.HashSet<>();
    }
}
