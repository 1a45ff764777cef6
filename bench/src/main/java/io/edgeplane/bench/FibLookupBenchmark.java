package io.edgeplane.bench;

import inet.ipaddr.ipv4.IPv4Address;
import inet.ipaddr.ipv4.IPv4AddressAssociativeTrie;
import io.edgeplane.route.FibTables;
import io.edgeplane.route.RoutingTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Longest-prefix-match lookups per second on one thread: Edgeplane's DIR-24-8 one at a time and batched per
 * vector of 256, and the same table and keys through {@code com.github.seancfoley:ipaddress}'s
 * {@code IPv4AddressAssociativeTrie} as a peer. Keys come from a 1 Mi array (random over 2^32 or inside installed
 * prefixes), walked in order, so neither the branch predictor nor the cache sees a repeating pattern.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g", "-XX:+UseTransparentHugePages"})
public class FibLookupBenchmark
{
    private static final int KEYS = 1 << 20;
    private static final int VECTOR = 256;

    @Param({"1000", "100000", "900000"})
    public int prefixes;

    @Param({"random", "installed"})
    public String keys;

    private FibTables fib;
    private RangeTable rangeTable;
    private IPv4AddressAssociativeTrie<Integer> trie;
    private int[] keyArray;
    private IPv4Address[] keyObjects;
    private int[] batchKeys;
    private final int[] batchGroups = new int[VECTOR];
    private int position;

    @Setup(Level.Trial)
    public void setUp()
    {
        final List<RouteTableGenerator.GeneratedRoute> routes = RouteTableGenerator.generate(prefixes, 1);
        final RoutingTable table = BenchTables.load(routes, null);
        fib = table.tables();
        keyArray = BenchTables.keys(routes, keys, KEYS, 2);
        rangeTable = new RangeTable(fib);
        for (final int key : keyArray)
        {
            final int expected = fib.lookup(key) & 0xFFFF;
            if (rangeTable.lookup(key) != expected)
            {
                throw new IllegalStateException("range table disagrees with the FIB for " + key);
            }
        }
        batchKeys = new int[VECTOR];
        trie = new IPv4AddressAssociativeTrie<>();
        // Same semantics as the FIB: per prefix the lowest metric wins.
        final java.util.Map<Long, Integer> best = new java.util.HashMap<>();
        for (final RouteTableGenerator.GeneratedRoute r : routes)
        {
            final long key = (long)r.length() << 32 | (r.prefix() & 0xFFFF_FFFFL);
            if (r.metric() == 100 || !best.containsKey(key))
            {
                best.put(key, r.nextHop());
            }
        }
        best.forEach((key, nextHop) ->
            trie.put(new IPv4Address((int)(long)key, (int)(key >>> 32)).toPrefixBlock(), nextHop));
        keyObjects = new IPv4Address[KEYS];
        for (int i = 0; i < KEYS; i++)
        {
            keyObjects[i] = new IPv4Address(keyArray[i]);
        }
    }

    @Benchmark
    @OperationsPerInvocation(VECTOR)
    public void edgeplaneOneAtATime(final Blackhole bh)
    {
        final FibTables fib = this.fib;
        final int[] keys = keyArray;
        int p = position;
        for (int i = 0; i < VECTOR; i++)
        {
            bh.consume(fib.lookup(keys[p]));
            p = (p + 1) & (KEYS - 1);
        }
        position = p;
    }

    @Benchmark
    @OperationsPerInvocation(VECTOR)
    public int[] edgeplaneBatched()
    {
        final int p = position;
        System.arraycopy(keyArray, p, batchKeys, 0, VECTOR);
        position = (p + VECTOR) & (KEYS - 1);
        fib.lookup(batchKeys, batchGroups, VECTOR);
        return batchGroups;
    }

    /** The DXR-style alternative (read-only), same keys: the measurement behind choosing DIR-24-8. */
    @Benchmark
    @OperationsPerInvocation(VECTOR)
    public void rangeTableOneAtATime(final Blackhole bh)
    {
        final RangeTable table = rangeTable;
        final int[] keys = keyArray;
        int p = position;
        for (int i = 0; i < VECTOR; i++)
        {
            bh.consume(table.lookup(keys[p]));
            p = (p + 1) & (KEYS - 1);
        }
        position = p;
    }

    @Benchmark
    @OperationsPerInvocation(VECTOR)
    public void ipaddressTrie(final Blackhole bh)
    {
        int p = position;
        for (int i = 0; i < VECTOR; i++)
        {
            bh.consume(trie.longestPrefixMatchNode(keyObjects[p]));
            p = (p + 1) & (KEYS - 1);
        }
        position = p;
    }
}
