package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgeplane.proto.Ipv4Address;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The box's service addressing: the external service IP range LoadBalancer VIPs come from (MetalLB's pool), the
 * service CIDR ClusterIPs come from, and the sources allowed to reach ClusterIPs (pod and node ranges).
 * <pre>
 * "serviceNetwork": { "externalServiceIPs": "203.0.113.100-203.0.113.120", "serviceCIDR": "10.96.0.0/12",
 *                     "clusterSources": ["10.244.0.0/16", "10.4.0.0/24"], "maglevTableSize": 65537 }
 * </pre>
 * {@code maglevTableSize} (a prime) sets the size of every service's Maglev table: 4 bytes per entry per service,
 * so thousands of services call for a smaller one.
 */
public record ServiceNetworkConfig(int externalLow, int externalHigh, int serviceCidr, int serviceCidrLength,
    List<int[]> clusterSources, int maglevTableSize)
{
    /** Maglev's default table size: a prime; 256 KiB of table per service. */
    public static final int DEFAULT_MAGLEV_TABLE_SIZE = 65_537;

    @JsonCreator
    public static ServiceNetworkConfig fromJson(@JsonProperty("externalServiceIPs") final String external,
        @JsonProperty("serviceCIDR") final String serviceCidr,
        @JsonProperty("clusterSources") final List<String> clusterSources,
        @JsonProperty("maglevTableSize") final Integer maglevTableSize)
    {
        int low = 0;
        int high = 0;
        if (external != null)
        {
            final int dash = external.indexOf('-');
            low = Fields.address(dash < 0 ? external : external.substring(0, dash).strip(), "externalServiceIPs");
            high = dash < 0 ? low : Fields.address(external.substring(dash + 1).strip(), "externalServiceIPs");
            if (Integer.compareUnsigned(low, high) > 0)
            {
                throw new IllegalArgumentException("externalServiceIPs: " + external + " runs backwards");
            }
        }
        final int[] cidr = Fields.prefix(serviceCidr == null ? "10.96.0.0/12" : serviceCidr, "serviceCIDR", false);
        if (cidr[1] > 30)
        {
            throw new IllegalArgumentException("serviceCIDR: a /" + cidr[1] + " has no room for services");
        }
        final List<int[]> sources = new ArrayList<>();
        if (clusterSources != null)
        {
            for (final String source : clusterSources)
            {
                sources.add(Fields.prefix(source, "clusterSources", false));
            }
        }
        final int size = Fields.range(maglevTableSize, DEFAULT_MAGLEV_TABLE_SIZE, 3, 1_048_573, "maglevTableSize");
        if (!io.edgeplane.lb.Maglev.isPrime(size))
        {
            throw new IllegalArgumentException("maglevTableSize: " + size + " is not a prime");
        }
        return new ServiceNetworkConfig(low, high, cidr[0], cidr[1], sources, size);
    }

    int serviceCidrLast()
    {
        return serviceCidr | ~Ipv4Address.mask(serviceCidrLength);
    }

    /** True when {@code address} lies in the external service IP range. */
    public boolean external(final int address)
    {
        return externalLow != 0 && Integer.compareUnsigned(address, externalLow) >= 0 &&
            Integer.compareUnsigned(address, externalHigh) <= 0;
    }

    /** True when {@code address} may reach ClusterIPs. */
    public boolean clusterSource(final int address)
    {
        for (final int[] prefix : clusterSources)
        {
            if ((address & Ipv4Address.mask(prefix[1])) == prefix[0])
            {
                return true;
            }
        }
        return false;
    }

    int firstFree(final int from, final int to, final Set<Integer> used)
    {
        for (long a = from & 0xFFFF_FFFFL; a <= (to & 0xFFFF_FFFFL); a++)
        {
            if (!used.contains((int)a))
            {
                return (int)a;
            }
        }
        return 0;
    }

    @JsonValue
    public Map<String, Object> json()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        if (externalLow != 0)
        {
            json.put("externalServiceIPs", Ipv4Address.format(externalLow) + "-" + Ipv4Address.format(externalHigh));
        }
        json.put("serviceCIDR", Fields.prefixText(serviceCidr, serviceCidrLength));
        final List<String> sources = new ArrayList<>();
        clusterSources.forEach(p -> sources.add(Fields.prefixText(p[0], p[1])));
        json.put("clusterSources", sources);
        if (maglevTableSize != DEFAULT_MAGLEV_TABLE_SIZE)
        {
            json.put("maglevTableSize", maglevTableSize);
        }
        return json;
    }
}
