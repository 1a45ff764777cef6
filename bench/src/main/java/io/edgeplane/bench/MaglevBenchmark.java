package io.edgeplane.bench;

import io.edgeplane.lb.Maglev;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Building a Maglev lookup table of 65,537 entries (the default size) for a service's backends, which the control
 * plane does on every backend-set change (the goal: under 10 ms for 1,000 backends).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MaglevBenchmark
{
    @Param({"10", "1000"})
    public int backends;

    private Maglev.Backend[] set;

    @Setup
    public void setUp()
    {
        final Random random = new Random(3);
        set = new Maglev.Backend[backends];
        for (int i = 0; i < backends; i++)
        {
            set[i] = new Maglev.Backend(0x0A00_0000 | i << 8 | random.nextInt(256), 8080, 1);
        }
    }

    @Benchmark
    public int[] build()
    {
        return Maglev.build(set, Maglev.DEFAULT_SIZE);
    }
}
