package io.edgeplane.control.cli;

import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.TextFiles;
import io.edgeplane.control.gateway.Gateway;
import io.edgeplane.control.gateway.GatewayException;
import picocli.CommandLine.Command;
import io.edgeplane.control.kubernetes.KubernetesSettings;
import io.edgeplane.control.kubernetes.KubernetesSync;
import io.fabric8.kubernetes.client.Config;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "gateway", description = "Run the dataplane on live interfaces with the control API.")
public final class GatewayCommand implements Callable<Integer>
{
    /** A token file holds one line; anything larger is not one. */
    static final int MAX_TOKEN_FILE_BYTES = 64 << 10;

    @Option(names = "--config", required = true, description = "JSON config; every port names its 'device'")
    Path config;

    @Option(names = "--state", defaultValue = "edgeplane-state",
        description = "directory of the persisted state (default: ./edgeplane-state)")
    Path state;

    @Option(names = "--api", defaultValue = "127.0.0.1:9180", description = "API address (default 127.0.0.1:9180)")
    String api;

    @Option(names = "--token", description = "API token (or EDGEPLANE_TOKEN), at least 16 characters; required " +
        "off loopback. Prefer --token-file: a token on the command line shows in ps")
    String token;

    @Option(names = "--salvage-journal", description = "when the state journal is damaged (not just a torn last " +
        "append), move it aside and start from its good records instead of refusing to start")
    boolean salvageJournal;

    @Option(names = "--token-file", description = "file holding the API token (its first line)")
    Path tokenFile;

    @Option(names = "--routes", description = "route file added to the config's routes (initial state only: " +
        "a persisted state wins)")
    Path routes;

    @Option(names = "--io", defaultValue = "afpacket", description = "how ports reach their devices: afpacket " +
        "(default: bursts per system call, zero-copy receive), pcap (pcap4j), none (no devices: control plane " +
        "only, to rehearse a config and its API changes)")
    String io;

    @Option(names = "--kubernetes", description = "learn Services, EndpointSlices and Nodes from the Kubernetes API " +
        "server (in-cluster service account, or --kubeconfig)")
    boolean kubernetes;

    @Option(names = "--kubeconfig", description = "kubeconfig file for --kubernetes (default: in-cluster, else " +
        "$KUBECONFIG or ~/.kube/config)")
    Path kubeconfig;

    @Option(names = "--node", description = "this gateway's Kubernetes node name (default: $NODE_NAME, else the " +
        "host name): its own node is not routed through the tunnel, and it is its identity in the leader Lease")
    String node;

    @Option(names = "--tunnel", description = "the vxlan port other nodes' pod CIDRs are routed through (default: " +
        "the config's only vxlan port; none: nodes are not learned)")
    String tunnel;

    @Option(names = "--lease-namespace", defaultValue = "default", description = "namespace of the " +
        "edgeplane-lb-allocator Lease (default: default)")
    String leaseNamespace;

    @Override
    public Integer call() throws InterruptedException
    {
        final DataplaneConfig dataplaneConfig = ReplayCommand.loadConfig(config, routes);
        final String apiToken = token(token, tokenFile, System.getenv("EDGEPLANE_TOKEN"));
        final Gateway.Io mode = switch (io)
        {
            case "afpacket" -> Gateway.Io.AFPACKET;
            case "pcap" -> Gateway.Io.PCAP;
            case "none" -> Gateway.Io.NONE;
            default -> throw new Main.UserError("--io: expected afpacket, pcap or none, got " + io);
        };
        // Checked before the gateway starts, so a bad option touches no state.
        if (!kubernetes && (kubeconfig != null || node != null || tunnel != null))
        {
            throw new Main.UserError("--kubeconfig, --node and --tunnel go with --kubernetes");
        }
        Config kubeClient = null;
        KubernetesSync.Settings kubeSettings = null;
        if (kubernetes)
        {
            try
            {
                kubeClient = kubernetesConfig();
                kubeSettings = KubernetesSettings.resolve(dataplaneConfig, node, tunnel, leaseNamespace);
            }
            catch (final RuntimeException ex)
            {
                throw new Main.UserError("--kubernetes: " + ex.getMessage());
            }
        }
        final Gateway gateway;
        try
        {
            gateway = new Gateway(dataplaneConfig, state, address(api), apiToken, mode, salvageJournal);
        }
        catch (final GatewayException ex)
        {
            throw new Main.UserError(ex.getMessage());
        }
        if (kubernetes)
        {
            try
            {
                gateway.startKubernetes(kubeClient, kubeSettings);
            }
            catch (final RuntimeException ex)
            {
                gateway.close();
                throw new Main.UserError("--kubernetes: " + ex.getMessage());
            }
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            gateway.close();
            stopped.countDown();
        }, "edgeplane-shutdown"));
        final StringBuilder ports = new StringBuilder();
        dataplaneConfig.ports().forEach(p -> ports.append(' ').append(p.name()).append('=')
            .append(mode == Gateway.Io.NONE ? "-" : p.device()));
        final InetSocketAddress bound = address(api);
        System.out.println("edgeplane gateway (" + io + "):" + ports + "; api http://" +
            bound.getAddress().getHostAddress() + ":" + gateway.apiPort() + "; state " + state);
        System.out.flush();
        stopped.await();
        return 0;
    }

    private Config kubernetesConfig()
    {
        if (kubeconfig == null)
        {
            return Config.autoConfigure(null);
        }
        if (!Files.isReadable(kubeconfig))
        {
            throw new IllegalArgumentException("cannot read the kubeconfig " + kubeconfig);
        }
        try
        {
            return Config.fromKubeconfig(kubeconfig.toFile());
        }
        catch (final RuntimeException ex)
        {
            final String message = String.valueOf(ex.getMessage()).strip().lines().findFirst().orElse("");
            throw new IllegalArgumentException("kubeconfig " + kubeconfig + " is not valid (" + message + ")");
        }
    }

    /** The token from --token, --token-file or the environment (in that order; two at once is an error). */
    static String token(final String option, final Path file, final String environment)
    {
        if (option != null && file != null)
        {
            throw new Main.UserError("--token and --token-file: give one");
        }
        if (file == null)
        {
            return option != null ? option : environment;
        }
        try
        {
            final String text = TextFiles.read(file, MAX_TOKEN_FILE_BYTES);
            final int end = text.indexOf('\n');
            return (end < 0 ? text : text.substring(0, end)).strip();
        }
        catch (final IOException ex)
        {
            throw new Main.UserError("--token-file: cannot read " + file + " (" + ex.getMessage() + ")");
        }
    }

    static InetSocketAddress address(final String text)
    {
        final int colon = text.lastIndexOf(':');
        if (colon <= 0)
        {
            throw new Main.UserError("--api: expected host:port, got " + text);
        }
        try
        {
            final int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 0 || port > 65535)
            {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(InetAddress.getByName(text.substring(0, colon)), port);
        }
        catch (final NumberFormatException ex)
        {
            throw new Main.UserError("--api: bad port in " + text);
        }
        catch (final UnknownHostException ex)
        {
            throw new Main.UserError("--api: unknown host in " + text);
        }
    }
}
