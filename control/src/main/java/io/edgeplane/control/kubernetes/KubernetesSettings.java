package io.edgeplane.control.kubernetes;

import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.PortConfig;
import io.edgeplane.proto.Ipv4Address;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** {@link KubernetesSync.Settings} from the command line and the config's ports. */
public final class KubernetesSettings
{
    private KubernetesSettings()
    {
    }

    /**
     * @param node   the node name, or null for {@code $NODE_NAME}, else the host name.
     * @param tunnel the vxlan port for other nodes' pod CIDRs, or null for the config's only one ("none": none).
     */
    public static KubernetesSync.Settings resolve(final DataplaneConfig config, final String node, final String tunnel,
        final String leaseNamespace)
    {
        final String name = node != null ? node : System.getenv("NODE_NAME") != null ? System.getenv("NODE_NAME") :
            hostName();
        final List<PortConfig> tunnels = config.ports().stream().filter(p -> p.tunnel() != null).toList();
        PortConfig chosen = null;
        if (tunnel == null)
        {
            chosen = tunnels.size() == 1 ? tunnels.get(0) : null;
        }
        else if (!"none".equals(tunnel))
        {
            chosen = tunnels.stream().filter(p -> p.name().equals(tunnel)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--tunnel: " + tunnel + " is not a vxlan port of the config"));
        }
        if (chosen == null)
        {
            return new KubernetesSync.Settings(name, null, leaseNamespace, 0, null, null);
        }
        final String underlayName = chosen.tunnel().underlay();
        final PortConfig underlay = config.ports().stream().filter(p -> p.name().equals(underlayName)).findFirst()
            .orElse(null);
        return new KubernetesSync.Settings(name, chosen.name(), leaseNamespace, chosen.tunnel().vni(),
            Ipv4Address.formatMac(chosen.mac()), underlay == null || underlay.address() == 0 ? null :
            Ipv4Address.format(underlay.address()));
    }

    private static String hostName()
    {
        try
        {
            return InetAddress.getLocalHost().getHostName();
        }
        catch (final UnknownHostException ex)
        {
            return "edgeplane";
        }
    }
}
