package io.edgeplane.config;

/**
 * One physical port of the box: {@code Port1}..{@code PortN}, its MAC, its IPv4 address and prefix (which gives
 * the connected route), MTU, an optional 802.1Q VLAN id (0 = untagged), the Linux device for live mode and the
 * administrative state.
 */
public record PortConfig(String name, long mac, int address, int prefixLength, int mtu, int vlan, String device,
    boolean adminUp)
{
}
