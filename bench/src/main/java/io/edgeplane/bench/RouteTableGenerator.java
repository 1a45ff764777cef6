package io.edgeplane.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Deterministic route tables with a BGP-like prefix-length mix (about 61 % /24, 11 % /22, 9.5 % /23, 4.5 % /21,
 * 4.4 % /20, 2.7 % /19, 1.4 % /16 and /18 each, 0.8 % /17, 0.5 % /8../15, 3 % /25../32); 5 % of prefixes get a
 * second, metric-200 route via another next hop; 64 next hops spread over three egress subnets
 * (10.2/16, 10.3/16, 10.4/16). Usage: {@code RouteTableGenerator PREFIXES OUT_FILE [SEED]}.
 */
public final class RouteTableGenerator
{
    public static final int NEXT_HOPS = 64;

    /** One route: prefix, length, next hop, metric. */
    public record GeneratedRoute(int prefix, int length, int nextHop, int metric)
    {
    }

    private static final int[] LENGTHS = {24, 22, 23, 21, 20, 19, 16, 18, 17, -1, -2};
    private static final double[] WEIGHTS = {61, 11, 9.5, 4.5, 4.4, 2.7, 1.4, 1.4, 0.8, 0.5, 3.0};

    private RouteTableGenerator()
    {
    }

    public static int nextHop(final int index)
    {
        return (10 << 24) | ((2 + index % 3) << 16) | (10 + index);
    }

    public static List<GeneratedRoute> generate(final int prefixes, final long seed)
    {
        final Random random = new Random(seed);
        double total = 0;
        for (final double w : WEIGHTS)
        {
            total += w;
        }
        final Set<Long> seen = new HashSet<>(prefixes * 2);
        final List<GeneratedRoute> routes = new ArrayList<>(prefixes + prefixes / 19);
        while (seen.size() < prefixes)
        {
            double pick = random.nextDouble() * total;
            int length = 24;
            for (int i = 0; i < WEIGHTS.length; i++)
            {
                pick -= WEIGHTS[i];
                if (pick <= 0)
                {
                    length = LENGTHS[i];
                    break;
                }
            }
            if (length == -1)
            {
                length = 8 + random.nextInt(8);
            }
            else if (length == -2)
            {
                length = 25 + random.nextInt(8);
            }
            final int first = 1 + random.nextInt(223);
            if (first == 10 || first == 127)
            {
                continue;
            }
            final int address = first << 24 | random.nextInt(1 << 24);
            final int prefix = address & (-1 << (32 - length));
            if (!seen.add((long)length << 32 | (prefix & 0xFFFF_FFFFL)))
            {
                continue;
            }
            final int hop = random.nextInt(NEXT_HOPS);
            routes.add(new GeneratedRoute(prefix, length, nextHop(hop), 100));
            if (random.nextInt(20) == 0)
            {
                routes.add(new GeneratedRoute(prefix, length, nextHop((hop + 1 + random.nextInt(NEXT_HOPS - 1)) %
                    NEXT_HOPS), 200));
            }
        }
        return routes;
    }

    static String format(final int a)
    {
        return (a >>> 24) + "." + (a >>> 16 & 255) + "." + (a >>> 8 & 255) + "." + (a & 255);
    }

    public static void write(final List<GeneratedRoute> routes, final Path path) throws IOException
    {
        try (BufferedWriter out = Files.newBufferedWriter(path))
        {
            out.write("# prefix/len nexthop metric (RouteTableGenerator)\n");
            for (final GeneratedRoute r : routes)
            {
                out.write(format(r.prefix()) + "/" + r.length() + " " + format(r.nextHop()) + " " + r.metric() + "\n");
            }
        }
    }

    public static void main(final String[] args) throws IOException
    {
        if (args.length < 2)
        {
            System.err.println("usage: RouteTableGenerator PREFIXES OUT_FILE [SEED]");
            System.exit(2);
        }
        final List<GeneratedRoute> routes = generate(Integer.parseInt(args[0]),
            args.length > 2 ? Long.parseLong(args[2]) : 1);
        write(routes, Path.of(args[1]));
        System.out.println("wrote " + routes.size() + " routes to " + args[1]);
    }
}
