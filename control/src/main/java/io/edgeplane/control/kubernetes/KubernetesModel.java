package io.edgeplane.control.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.Fields;
import io.edgeplane.config.Json;
import io.edgeplane.proto.Ipv4Address;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How Kubernetes objects become Edgeplane records, as kube-proxy, MetalLB and Flannel read them. Pure functions: an
 * object in, a record (the API's JSON shape, validated later by the resource handler) or a {@link Skip} with the
 * reason out. Nothing here talks to the API server.
 * <ul>
 *   <li>A Service (ClusterIP, NodePort, LoadBalancer; headless and ExternalName ones are ignored) and the
 *       EndpointSlices labelled with its name become one service named {@code <name>.<namespace>}: endpoints whose
 *       {@code ready} condition is not false are ready backends; terminating ones still {@code serving} stay as
 *       not-ready backends (their flows finish, no new flows go to them). A port's target port is the slices' port
 *       of the same name (Kubernetes resolves named target ports per endpoint; the slices carry the result), else the
 *       spec's numeric {@code targetPort}.</li>
 *   <li>The LoadBalancer address is {@code status.loadBalancer.ingress[0].ip}, else {@code spec.loadBalancerIP},
 *       else MetalLB's {@code metallb.universe.tf/loadBalancerIPs} annotation; without one the service is served as
 *       a NodePort (or a ClusterIP when it has no node ports: pending, as in Kubernetes) unless this gateway
 *       allocates (the leader). {@code allocateLoadBalancerNodePorts: false} carries over: no node ports are picked
 *       here for ports Kubernetes gave none.</li>
 *   <li>A Node other than this one, with {@code spec.podCIDR} and Flannel's VXLAN annotations (VTEP MAC in
 *       {@code flannel.alpha.coreos.com/backend-data}, underlay address in {@code .../public-ip}, else the node's
 *       InternalIP), becomes a route {@code podCIDR via <podCIDR network address>} on the tunnel port and a neighbor
 *       for that next hop (the VTEP's MAC behind its underlay address): Flannel's own routes, neighbors and fdb.</li>
 * </ul>
 */
public final class KubernetesModel
{
    /** Flannel's node annotations (read for other nodes, written for ours). */
    public static final String FLANNEL_BACKEND_DATA = "flannel.alpha.coreos.com/backend-data";
    public static final String FLANNEL_BACKEND_TYPE = "flannel.alpha.coreos.com/backend-type";
    public static final String FLANNEL_PUBLIC_IP = "flannel.alpha.coreos.com/public-ip";
    public static final String METALLB_IPS = "metallb.universe.tf/loadBalancerIPs";
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private KubernetesModel()
    {
    }

    /** An object left out, and why (a reason code for counters, a sentence for people). */
    public record Skip(String kind, String object, String reason, String detail)
    {
        @Override
        public String toString()
        {
            return kind + " " + object + ": " + detail;
        }
    }

    /** What one object became: a record, nothing (ignored by design), or a skip. */
    public record Result(ObjectNode record, Skip skip)
    {
        static final Result IGNORED = new Result(null, null);

        static Result skip(final String kind, final String object, final String reason, final String detail)
        {
            return new Result(null, new Skip(kind, object, reason, detail));
        }
    }

    /** {@code <namespace>/<name>} of an object, for messages and maps. */
    public static String id(final io.fabric8.kubernetes.api.model.HasMetadata object)
    {
        final String ns = object.getMetadata().getNamespace();
        return ns == null ? object.getMetadata().getName() : ns + "/" + object.getMetadata().getName();
    }

    /** The Edgeplane service name of a Kubernetes service: {@code <name>.<namespace>}. */
    public static String serviceName(final String namespace, final String name)
    {
        return name + "." + namespace;
    }

    /** The LoadBalancer address Kubernetes already names for the service, or null. */
    public static String loadBalancerAddress(final Service service)
    {
        if (service.getStatus() != null && service.getStatus().getLoadBalancer() != null &&
            service.getStatus().getLoadBalancer().getIngress() != null)
        {
            for (final LoadBalancerIngress ingress : service.getStatus().getLoadBalancer().getIngress())
            {
                if (ingress.getIp() != null && !ingress.getIp().isEmpty())
                {
                    return ingress.getIp();
                }
            }
        }
        final ServiceSpec spec = service.getSpec();
        if (spec != null && spec.getLoadBalancerIP() != null && !spec.getLoadBalancerIP().isEmpty())
        {
            return spec.getLoadBalancerIP();
        }
        final Map<String, String> annotations = service.getMetadata().getAnnotations();
        final String metallb = annotations == null ? null : annotations.get(METALLB_IPS);
        if (metallb != null && !metallb.isBlank())
        {
            return metallb.split(",")[0].strip();
        }
        return null;
    }

    /**
     * A service and its slices as an Edgeplane service record.
     *
     * @param allocate for a LoadBalancer service without an address: true leaves {@code loadBalancerIP} out so the
     *                 gateway allocates one from {@code externalServiceIPs} (the leader); false serves it as a
     *                 NodePort until an address appears.
     */
    public static Result service(final Service service, final List<EndpointSlice> slices, final boolean allocate)
    {
        final String id = id(service);
        final ServiceSpec spec = service.getSpec();
        if (spec == null)
        {
            return Result.skip("Service", id, "no-spec", "no spec");
        }
        final String type = spec.getType() == null ? "ClusterIP" : spec.getType();
        if ("ExternalName".equals(type) || "None".equals(spec.getClusterIP()))
        {
            return Result.IGNORED; // ExternalName is DNS only; headless services have no virtual address
        }
        if (!List.of("ClusterIP", "NodePort", "LoadBalancer").contains(type))
        {
            return Result.skip("Service", id, "bad-type", "type " + type + " is not ClusterIP, NodePort or " +
                "LoadBalancer");
        }
        if (spec.getClusterIP() == null || spec.getClusterIP().isEmpty())
        {
            return Result.skip("Service", id, "no-cluster-ip", "no clusterIP assigned yet");
        }
        if (!isIpv4(spec.getClusterIP()))
        {
            return Result.skip("Service", id, "bad-address", "clusterIP " + spec.getClusterIP() +
                " is not an IPv4 address");
        }
        if (spec.getPorts() == null || spec.getPorts().isEmpty())
        {
            return Result.skip("Service", id, "bad-port", "no ports");
        }
        final ObjectNode record = Json.STRICT.createObjectNode();
        record.put("name", serviceName(service.getMetadata().getNamespace(), service.getMetadata().getName()));
        final String lb = "LoadBalancer".equals(type) ? loadBalancerAddress(service) : null;
        if (lb != null && !isIpv4(lb))
        {
            return Result.skip("Service", id, "bad-address", "load balancer address " + lb +
                " is not an IPv4 address");
        }
        // A LoadBalancer without an address (and nobody here to allocate one) is served as what it is meanwhile: a
        // NodePort when it has node ports, else a ClusterIP.
        final boolean pending = "LoadBalancer".equals(type) && lb == null && !allocate;
        final boolean hasNodePorts = spec.getPorts().stream().anyMatch(p -> p.getNodePort() != null &&
            p.getNodePort() != 0);
        final String served = !pending ? type : hasNodePorts ? "NodePort" : "ClusterIP";
        record.put("type", served);
        if ("LoadBalancer".equals(served) && Boolean.FALSE.equals(spec.getAllocateLoadBalancerNodePorts()))
        {
            record.put("allocateLoadBalancerNodePorts", false); // the VIP only: no node ports picked here
        }
        record.put("clusterIP", spec.getClusterIP());
        if (lb != null)
        {
            record.put("loadBalancerIP", lb);
        }
        final Map<String, Boolean> backends = new LinkedHashMap<>();
        for (final EndpointSlice slice : slices)
        {
            if (!"IPv4".equals(slice.getAddressType()) || slice.getEndpoints() == null)
            {
                continue;
            }
            for (final Endpoint endpoint : slice.getEndpoints())
            {
                if (endpoint.getAddresses() == null || endpoint.getAddresses().isEmpty())
                {
                    continue;
                }
                final String ip = endpoint.getAddresses().get(0);
                if (!isIpv4(ip))
                {
                    return Result.skip("Service", id, "bad-address", "endpoint " + ip + " (slice " + id(slice) +
                        ") is not an IPv4 address");
                }
                final var conditions = endpoint.getConditions();
                final boolean ready = conditions == null || !Boolean.FALSE.equals(conditions.getReady());
                final boolean serving = ready || conditions != null && Boolean.TRUE.equals(conditions.getServing());
                if (serving)
                {
                    backends.merge(ip, ready, Boolean::logicalOr);
                }
            }
        }
        final ArrayNode ports = record.putArray("ports");
        for (final ServicePort port : spec.getPorts())
        {
            final String protocol = port.getProtocol() == null ? "TCP" : port.getProtocol();
            if (!"TCP".equals(protocol) && !"UDP".equals(protocol))
            {
                return Result.skip("Service", id, "bad-protocol", "port " + port.getPort() + ": protocol " +
                    protocol + " is not served (TCP and UDP are)");
            }
            if (port.getPort() == null || port.getPort() < 1 || port.getPort() > 65535)
            {
                return Result.skip("Service", id, "bad-port", "port " + port.getPort() + " is not 1..65535");
            }
            // With no endpoints a named target port has nothing to resolve against and nothing to reach either.
            final int target = backends.isEmpty() && port.getTargetPort() != null &&
                port.getTargetPort().getStrVal() != null ? port.getPort() : targetPort(port, slices);
            if (target < 1 || target > 65535)
            {
                return Result.skip("Service", id, "bad-port", "port " + port.getPort() + ": target port " +
                    (port.getTargetPort() == null ? target : describe(port.getTargetPort())) + " cannot be " +
                    "resolved to 1..65535");
            }
            final ObjectNode p = ports.addObject();
            if (port.getName() != null && !port.getName().isEmpty())
            {
                p.put("name", port.getName());
            }
            p.put("protocol", protocol).put("port", port.getPort()).put("targetPort", target);
            if (!"ClusterIP".equals(served) && port.getNodePort() != null && port.getNodePort() != 0)
            {
                p.put("nodePort", port.getNodePort());
            }
        }
        final String affinity = spec.getSessionAffinity() == null ? "None" : spec.getSessionAffinity();
        record.put("sessionAffinity", affinity);
        if ("ClientIP".equals(affinity) && spec.getSessionAffinityConfig() != null &&
            spec.getSessionAffinityConfig().getClientIP() != null &&
            spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() != null)
        {
            record.putObject("sessionAffinityConfig").putObject("clientIP").put("timeoutSeconds",
                spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds());
        }
        final ArrayNode list = record.putArray("backends");
        backends.forEach((ip, ready) -> list.addObject().put("ip", ip).put("ready", ready));
        return new Result(record, null);
    }

    private static String describe(final IntOrString value)
    {
        return value.getStrVal() != null ? "'" + value.getStrVal() + "'" : String.valueOf(value.getIntVal());
    }

    /** The slices' port of the service port's name, else the spec's numeric target port, else the port itself. */
    private static int targetPort(final ServicePort port, final List<EndpointSlice> slices)
    {
        final String name = port.getName() == null ? "" : port.getName();
        for (final EndpointSlice slice : slices)
        {
            if (slice.getPorts() == null)
            {
                continue;
            }
            for (final EndpointPort endpointPort : slice.getPorts())
            {
                final String portName = endpointPort.getName() == null ? "" : endpointPort.getName();
                final String protocol = endpointPort.getProtocol() == null ? "TCP" : endpointPort.getProtocol();
                if (portName.equals(name) && protocol.equals(port.getProtocol() == null ? "TCP" :
                    port.getProtocol()) && endpointPort.getPort() != null)
                {
                    return endpointPort.getPort();
                }
            }
        }
        final IntOrString target = port.getTargetPort();
        if (target == null || target.getIntVal() == null && target.getStrVal() == null)
        {
            return port.getPort();
        }
        if (target.getIntVal() != null)
        {
            return target.getIntVal();
        }
        return -1; // a named port with no slice to resolve it
    }

    /** A route and a neighbor for another node's pods through the tunnel port, as Flannel programs them. */
    public record NodeRecords(ObjectNode route, ObjectNode neighbor)
    {
    }

    /** What a node becomes: records, nothing (our own node, no pod CIDR yet) or a skip. */
    public record NodeResult(NodeRecords records, Skip skip)
    {
    }

    public static NodeResult node(final Node node, final String tunnel)
    {
        final String name = node.getMetadata().getName();
        final String podCidr = node.getSpec() == null ? null : node.getSpec().getPodCIDR();
        if (podCidr == null || podCidr.isEmpty())
        {
            return new NodeResult(null, null); // not given a pod range yet
        }
        final int[] prefix;
        try
        {
            prefix = Fields.prefix(podCidr, "podCIDR", false);
        }
        catch (final IllegalArgumentException ex)
        {
            return new NodeResult(null, new Skip("Node", name, "bad-address", "podCIDR " + podCidr +
                " is not an IPv4 prefix"));
        }
        final Map<String, String> annotations = node.getMetadata().getAnnotations() == null ? Map.of() :
            node.getMetadata().getAnnotations();
        final String backendType = annotations.get(FLANNEL_BACKEND_TYPE);
        if (backendType != null && !"vxlan".equals(backendType))
        {
            return new NodeResult(null, new Skip("Node", name, "not-vxlan", "Flannel backend " + backendType +
                " is not vxlan"));
        }
        final String data = annotations.get(FLANNEL_BACKEND_DATA);
        final String vtepMac;
        try
        {
            vtepMac = data == null ? null : Json.STRICT.readTree(data).path("VtepMAC").asText(null);
        }
        catch (final Exception ex)
        {
            return new NodeResult(null, new Skip("Node", name, "bad-annotation", FLANNEL_BACKEND_DATA +
                " is not JSON"));
        }
        if (vtepMac == null)
        {
            return new NodeResult(null, new Skip("Node", name, "no-vtep-mac", "no VtepMAC in " +
                FLANNEL_BACKEND_DATA + " (the node's VXLAN endpoint is not published yet)"));
        }
        String underlay = annotations.get(FLANNEL_PUBLIC_IP);
        if (underlay == null && node.getStatus() != null && node.getStatus().getAddresses() != null)
        {
            for (final NodeAddress address : node.getStatus().getAddresses())
            {
                if ("InternalIP".equals(address.getType()) && isIpv4(address.getAddress()))
                {
                    underlay = address.getAddress();
                    break;
                }
            }
        }
        if (underlay == null || !isIpv4(underlay))
        {
            return new NodeResult(null, new Skip("Node", name, "bad-address", "no IPv4 InternalIP or " +
                FLANNEL_PUBLIC_IP + " for the node's VXLAN endpoint"));
        }
        final String nextHop = Ipv4Address.format(prefix[0]);
        final ObjectNode route = Json.STRICT.createObjectNode().put("interface", tunnel)
            .put("prefix", Fields.prefixText(prefix[0], prefix[1])).put("nextHop", nextHop).put("metric", 100);
        final ObjectNode neighbor = Json.STRICT.createObjectNode().put("interface", tunnel).put("ip", nextHop)
            .put("mac", vtepMac).put("vtep", underlay);
        return new NodeResult(new NodeRecords(route, neighbor), null);
    }

    /** Our node's Flannel annotations: what other nodes (Flannel or Edgeplane) need to reach our pods. */
    public static Map<String, String> flannelAnnotations(final int vni, final String vtepMac, final String underlay)
    {
        final Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(FLANNEL_BACKEND_TYPE, "vxlan");
        annotations.put(FLANNEL_BACKEND_DATA, "{\"VNI\":" + vni + ",\"VtepMAC\":\"" + vtepMac + "\"}");
        annotations.put(FLANNEL_PUBLIC_IP, underlay);
        annotations.put("flannel.alpha.coreos.com/kube-subnet-manager", "true");
        return annotations;
    }

    static boolean isIpv4(final String text)
    {
        try
        {
            Ipv4Address.parse(text);
            return true;
        }
        catch (final RuntimeException ex)
        {
            return false;
        }
    }

    /** Services' slices grouped by their {@code kubernetes.io/service-name} label, keyed {@code <ns>/<name>}. */
    public static Map<String, List<EndpointSlice>> slicesByService(final List<EndpointSlice> slices)
    {
        final Map<String, List<EndpointSlice>> byService = new LinkedHashMap<>();
        for (final EndpointSlice slice : slices)
        {
            final Map<String, String> labels = slice.getMetadata().getLabels();
            final String service = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
            if (service != null)
            {
                byService.computeIfAbsent(slice.getMetadata().getNamespace() + "/" + service,
                    k -> new ArrayList<>()).add(slice);
            }
        }
        return byService;
    }

    static JsonNode key(final ObjectNode record, final String... fields)
    {
        final ObjectNode key = Json.STRICT.createObjectNode();
        for (final String field : fields)
        {
            key.set(field, record.get(field));
        }
        return key;
    }
}
