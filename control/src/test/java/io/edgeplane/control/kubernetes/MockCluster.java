package io.edgeplane.control.kubernetes;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Kubernetes API server for tests: fabric8's mock server in CRUD mode (objects are stored, listed and watched as
 * a real API server does), on loopback, plain HTTP. It can be stopped and started again on the same port with the
 * same objects (the dispatcher holds them), which is an API server restart as its clients see it.
 */
final class MockCluster implements AutoCloseable
{
    private final KubernetesCrudDispatcher dispatcher = new KubernetesCrudDispatcher();
    private KubernetesMockServer server;
    private int port;
    private final KubernetesClient client;

    MockCluster()
    {
        start(0);
        port = server.getPort();
        client = server.createClient();
    }

    private void start(final int at)
    {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init(InetAddress.getLoopbackAddress(), at);
    }

    /** The API server goes away (connections refused from now on). */
    void stop()
    {
        server.destroy();
    }

    /** ... and comes back on the same port with the same objects. */
    void restart()
    {
        start(port);
    }

    KubernetesClient client()
    {
        return client;
    }

    String url()
    {
        return "http://127.0.0.1:" + port;
    }

    /** A client config for a gateway (its own client, its own connections). */
    Config config()
    {
        return new ConfigBuilder(Config.empty()).withMasterUrl(url()).withNamespace("default")
            .withTrustCerts(true).withRequestTimeout(5000).withConnectionTimeout(2000).build();
    }

    /** A kubeconfig file naming this server, for a gateway process. */
    Path kubeconfig(final Path dir) throws IOException
    {
        final Path file = dir.resolve("kubeconfig");
        Files.writeString(file, """
            apiVersion: v1
            kind: Config
            clusters: [ { name: mock, cluster: { server: "%s" } } ]
            users: [ { name: test, user: { token: "test" } } ]
            contexts: [ { name: mock, context: { cluster: mock, user: test, namespace: default } } ]
            current-context: mock
            """.formatted(url()));
        return file;
    }

    static Service service(final String name, final String type, final String clusterIp, final int port,
        final Object targetPort, final Integer nodePort)
    {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
            .withNewSpec().withType(type).withClusterIP(clusterIp).withPorts(new ServicePortBuilder().withName("http")
                .withProtocol("TCP").withPort(port).withTargetPort(targetPort instanceof Integer i ?
                    new IntOrString(i) : new IntOrString((String)targetPort)).withNodePort(nodePort).build())
            .endSpec().build();
    }

    static EndpointSlice slice(final String service, final String name, final int targetPort,
        final List<String> ready, final List<String> notReady)
    {
        final EndpointSliceBuilder builder = new EndpointSliceBuilder().withNewMetadata().withName(name)
            .withNamespace("default").withLabels(Map.of("kubernetes.io/service-name", service)).endMetadata()
            .withAddressType("IPv4").addNewPort().withName("http").withProtocol("TCP").withPort(targetPort).endPort();
        ready.forEach(ip -> builder.addToEndpoints(new EndpointBuilder().withAddresses(ip).withNewConditions()
            .withReady(true).withServing(true).endConditions().build()));
        notReady.forEach(ip -> builder.addToEndpoints(new EndpointBuilder().withAddresses(ip).withNewConditions()
            .withReady(false).withServing(false).endConditions().build()));
        return builder.build();
    }

    static Node node(final String name, final String podCidr, final String internalIp, final String vtepMac)
    {
        final NodeBuilder builder = new NodeBuilder().withNewMetadata().withName(name).endMetadata()
            .withNewSpec().withPodCIDR(podCidr).endSpec().withNewStatus().addNewAddress().withType("InternalIP")
            .withAddress(internalIp).endAddress().endStatus();
        if (vtepMac != null)
        {
            builder.editMetadata().withAnnotations(Map.of(KubernetesModel.FLANNEL_BACKEND_TYPE, "vxlan",
                KubernetesModel.FLANNEL_BACKEND_DATA, "{\"VNI\":42,\"VtepMAC\":\"" + vtepMac + "\"}")).endMetadata();
        }
        return builder.build();
    }

    @Override
    public void close()
    {
        client.close();
        server.destroy();
    }
}
