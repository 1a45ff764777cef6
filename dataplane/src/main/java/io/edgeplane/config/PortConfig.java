package io.edgeplane.config;

import java.util.List;

/**
 * One port of the box: {@code Port1}..{@code PortN}, its MAC, its primary IPv4 address and prefix (which gives
 * the connected route), further local addresses (/32 each), MTU, an optional 802.1Q VLAN id (0 = untagged), the
 * Linux device for live mode and the administrative state.
 */
public record PortConfig(String name, long mac, int address, int prefixLength, int mtu, int vlan, String device,
    boolean adminUp, List<Integer> addresses)
{
    public PortConfig
    {
        addresses = List.copyOf(addresses);
    }

    public PortConfig(final String name, final long mac, final int address, final int prefixLength, final int mtu,
        final int vlan, final String device, final boolean adminUp)
    {
        this(name, mac, address, prefixLength, mtu, vlan, device, adminUp, List.of());
    }
}
