package io.edgeplane.bench;

import io.edgeplane.route.FibTables;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RoutingTable;

import java.util.List;

/**
 * Build time and memory of the FIB for generated tables of several sizes, plus the cost of incremental updates on
 * the largest one. Not a JMH benchmark (each build is a one-shot of seconds): it builds each size five times and
 * prints the median. Usage: {@code java -cp benchmarks.jar io.edgeplane.bench.FibBuildMeasure}.
 */
public final class FibBuildMeasure
{
    private FibBuildMeasure()
    {
    }

    public static void main(final String[] args) throws RouteException
    {
        final int[] sizes = {1000, 100_000, 900_000, 1_000_000};
        System.out.printf("%-10s %-8s %-12s %-14s %-14s %-10s%n", "prefixes", "routes", "build ms", "FIB arrays MiB",
            "heap MiB", "tbl8 used");
        for (final int size : sizes)
        {
            final List<RouteTableGenerator.GeneratedRoute> routes = RouteTableGenerator.generate(size, 1);
            final long[] times = new long[5];
            RoutingTable table = null;
            long heap = 0;
            for (int i = 0; i < times.length; i++)
            {
                table = null;
                System.gc();
                final long before = usedHeap();
                final long start = System.nanoTime();
                table = BenchTables.load(routes, null);
                times[i] = System.nanoTime() - start;
                System.gc();
                heap = usedHeap() - before;
            }
            java.util.Arrays.sort(times);
            final FibTables fib = table.tables();
            System.out.printf("%-10d %-8d %-12.0f %-14.1f %-14.1f %-10d%n", size, routes.size(), times[2] / 1e6,
                fib.memoryBytes() / 1048576.0, heap / 1048576.0, fib.tbl8BlocksUsed());
            if (size == 900_000)
            {
                final long start = System.nanoTime();
                final RangeTable ranges = new RangeTable(fib);
                System.out.printf("  DXR-style range table from the same FIB: built in %.0f ms, %.1f MiB%n",
                    (System.nanoTime() - start) / 1e6, ranges.memoryBytes() / 1048576.0);
                measureUpdates(table);
            }
        }
    }

    private static void measureUpdates(final RoutingTable table) throws RouteException
    {
        final int[] lengths = {24, 20, 16, 28};
        for (final int length : lengths)
        {
            final int count = length <= 16 ? 2_000 : 50_000;
            final long start = System.nanoTime();
            for (int i = 0; i < count; i++)
            {
                final int prefix = (0x0B000000 + (i << (32 - length))) & (-1 << (32 - length));
                table.add(1, prefix, length, RouteTableGenerator.nextHop(1), 100);
                table.remove(1, prefix, length);
            }
            final long elapsed = System.nanoTime() - start;
            System.out.printf("  incremental add+remove of a /%d on the 900k table: %.2f us per pair%n", length,
                elapsed / 1e3 / count);
        }
    }

    private static long usedHeap()
    {
        final Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
