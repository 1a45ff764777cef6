package io.edgeplane.config;

/**
 * A route as users know it from {@code Add-HcsNetRoute}: interface, destination prefix/length, next hop, metric.
 * A next hop of 0.0.0.0 means "directly connected on that interface".
 */
public record RouteConfig(String interfaceName, int prefix, int prefixLength, int nextHop, int metric)
{
}
