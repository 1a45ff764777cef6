package io.edgeplane.config;

/** A static neighbor: the MAC of an IPv4 address reachable through a port. */
public record NeighborConfig(String interfaceName, int address, long mac)
{
}
