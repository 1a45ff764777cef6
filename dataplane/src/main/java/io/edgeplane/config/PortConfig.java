package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgeplane.proto.Ipv4Address;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One port of the box: {@code Port1}..{@code PortN}, its kind, MAC, primary IPv4 address and prefix (which gives
 * the connected route), further local addresses (/32 each: they answer ARP and ping like the primary), MTU, an
 * optional 802.1Q VLAN id (0 = untagged), the Linux device for live mode, the administrative state and the
 * reverse-path filter (RFC 3704: {@code off}, {@code loose}, {@code strict}). JSON:
 * <pre>
 * { "name": "Port1", "type": "ethernet", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24",
 *   "addresses": ["10.1.0.5"], "mtu": 1500, "vlan": 0, "device": "veth-p1", "adminUp": true,
 *   "rpFilter": "strict" }
 * </pre>
 */
public record PortConfig(String name, long mac, int address, int prefixLength, int mtu, int vlan, String device,
    boolean adminUp, List<Integer> addresses, String rpFilter, Tunnel tunnel)
{
    public static final List<String> RP_FILTERS = List.of("off", "loose", "strict");
    public static final List<String> DF_MODES = List.of("set", "unset", "inherit");
    public static final int VXLAN_PORT = 4789;
    public static final int VXLAN_MTU = 1450;

    /**
     * What a {@code "type": "vxlan"} port adds (RFC 7348, like the kernel's vxlan device): its VNI, the UDP port,
     * the underlay port whose address is the outer source, and the outer DF bit ({@code set}, {@code unset},
     * {@code inherit} from the inner header, as iproute2 names them).
     */
    public record Tunnel(int vni, int udpPort, String underlay, String df)
    {
    }

    public boolean isTunnel()
    {
        return tunnel != null;
    }

    public static final int MIN_MTU = 68;
    public static final int MAX_MTU = 9216;

    public PortConfig
    {
        addresses = List.copyOf(addresses);
    }

    public PortConfig(final String name, final long mac, final int address, final int prefixLength, final int mtu,
        final int vlan, final String device, final boolean adminUp)
    {
        this(name, mac, address, prefixLength, mtu, vlan, device, adminUp, List.of(), "off", null);
    }

    @JsonCreator
    public static PortConfig fromJson(@JsonProperty("name") final String name,
        @JsonProperty("type") final String type, @JsonProperty("mac") final String mac,
        @JsonProperty("ipv4") final String ipv4, @JsonProperty("addresses") final List<String> addresses,
        @JsonProperty("mtu") final Integer mtu, @JsonProperty("vlan") final Integer vlan,
        @JsonProperty("device") final String device, @JsonProperty("adminUp") final Boolean adminUp,
        @JsonProperty("rpFilter") final String rpFilter, @JsonProperty("vni") final Integer vni,
        @JsonProperty("udpPort") final Integer udpPort, @JsonProperty("underlay") final String underlay,
        @JsonProperty("df") final String df)
    {
        Json.required(name, "name");
        if (!name.matches("[A-Za-z][A-Za-z0-9_.-]{0,31}"))
        {
            throw new IllegalArgumentException("name: '" + name +
                "' must start with a letter and hold at most 32 letters, digits, '_', '.', '-'");
        }
        final long macValue = Fields.unicastMac(mac, "mac");
        final int[] p = Fields.prefix(ipv4, "ipv4", true);
        if (p[1] < 1)
        {
            throw new IllegalArgumentException("ipv4: a port prefix must be /1 to /32, got " + ipv4);
        }
        final int hostMask = ~Ipv4Address.mask(p[1]);
        if (p[1] < 31 && ((p[0] & hostMask) == 0 || (p[0] & hostMask) == hostMask))
        {
            throw new IllegalArgumentException("ipv4: " + ipv4 + " is the network or broadcast address");
        }
        final int vlanId = Fields.range(vlan, 0, 0, 4094, "vlan");
        final String kind = type == null ? (vlanId == 0 ? "ethernet" : "vlan") : type;
        if (!kind.equals("ethernet") && !kind.equals("vlan") && !kind.equals("vxlan"))
        {
            throw new IllegalArgumentException("type: " + kind + " is not a port type (ethernet, vlan, vxlan)");
        }
        Tunnel tunnel = null;
        if (kind.equals("vxlan"))
        {
            if (vlanId != 0 || device != null)
            {
                throw new IllegalArgumentException("type: a vxlan port has no vlan and no device (it sends through " +
                    "its underlay port)");
            }
            final int id = Fields.range(Json.required(vni, "vni"), 0, 1, (1 << 24) - 1, "vni");
            final String mode = df == null ? "set" : df;
            if (!DF_MODES.contains(mode))
            {
                throw new IllegalArgumentException("df: " + mode + " is not one of set, unset, inherit");
            }
            tunnel = new Tunnel(id, Fields.range(udpPort, VXLAN_PORT, 1, 65535, "udpPort"),
                Json.required(underlay, "underlay"), mode);
        }
        else if (vni != null || udpPort != null || underlay != null || df != null)
        {
            throw new IllegalArgumentException((vni != null ? "vni" : udpPort != null ? "udpPort" : underlay != null ?
                "underlay" : "df") + ": only a vxlan port has it");
        }
        if (kind.equals("vlan") != (vlanId != 0))
        {
            throw new IllegalArgumentException("type: a vlan port needs a vlan id from 1 to 4094, an ethernet port " +
                "none");
        }
        final List<Integer> extra = new ArrayList<>();
        if (addresses != null)
        {
            for (int i = 0; i < addresses.size(); i++)
            {
                final int a = Fields.address(addresses.get(i), "addresses[" + i + "]");
                if (a == p[0] || extra.contains(a))
                {
                    throw new IllegalArgumentException("addresses[" + i + "]: " + addresses.get(i) + " is listed twice");
                }
                extra.add(a);
            }
        }
        if (device != null && device.isEmpty())
        {
            throw new IllegalArgumentException("device: must not be empty");
        }
        final String filter = rpFilter == null ? "off" : rpFilter;
        if (!RP_FILTERS.contains(filter))
        {
            throw new IllegalArgumentException("rpFilter: " + filter + " is not one of off, loose, strict");
        }
        return new PortConfig(name, macValue, p[0], p[1], Fields.range(mtu, tunnel == null ? 1500 : VXLAN_MTU,
            MIN_MTU, MAX_MTU, "mtu"), vlanId, device, adminUp == null || adminUp, extra, filter, tunnel);
    }

    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("type", tunnel != null ? "vxlan" : vlan == 0 ? "ethernet" : "vlan");
        if (tunnel != null)
        {
            json.put("vni", tunnel.vni());
            json.put("udpPort", tunnel.udpPort());
            json.put("underlay", tunnel.underlay());
            json.put("df", tunnel.df());
        }
        json.put("mac", Ipv4Address.formatMac(mac));
        json.put("ipv4", Fields.prefixText(address, prefixLength));
        if (!addresses.isEmpty())
        {
            json.put("addresses", addresses.stream().map(Ipv4Address::format).toList());
        }
        json.put("mtu", mtu);
        if (vlan != 0)
        {
            json.put("vlan", vlan);
        }
        if (device != null)
        {
            json.put("device", device);
        }
        json.put("adminUp", adminUp);
        if (!"off".equals(rpFilter))
        {
            json.put("rpFilter", rpFilter);
        }
        return json;
    }

    /** The same port with another administrative state. */
    public PortConfig withAdminUp(final boolean up)
    {
        return new PortConfig(name, mac, address, prefixLength, mtu, vlan, device, up, addresses, rpFilter, tunnel);
    }
}
