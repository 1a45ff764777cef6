package io.edgeplane.control.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** {@code edgeplane fib lookup} against a brute-force longest-prefix match over the same route file. */
class FibLookupTest
{
    @TempDir
    Path tmp;

    private static String format(final int a)
    {
        return (a >>> 24) + "." + (a >>> 16 & 255) + "." + (a >>> 8 & 255) + "." + (a & 255);
    }

    @Test
    void shouldPrintTheSameNextHopsAsABruteForceMatch() throws Exception
    {
        final Random random = new Random(5);
        final List<int[]> routes = new ArrayList<>();
        final StringBuilder file = new StringBuilder("# generated\n");
        for (int i = 0; i < 3000; i++)
        {
            final int length = 8 + random.nextInt(25);
            final int prefix = (random.nextInt(4) << 30 | random.nextInt(1 << 16) << 8 | random.nextInt(256)) &
                (-1 << (32 - length));
            final int nextHop = 0x0A000000 | i;
            // Distinct metrics per prefix so the answer is unique (no ECMP choice involved).
            routes.add(new int[] {prefix, length, nextHop, 1 + i});
            file.append(format(prefix)).append('/').append(length).append(' ').append(format(nextHop)).append(' ')
                .append(1 + i).append('\n');
        }
        final Path routeFile = tmp.resolve("routes.txt");
        Files.writeString(routeFile, file);
        final StringBuilder keys = new StringBuilder();
        final StringBuilder expected = new StringBuilder();
        for (int k = 0; k < 5000; k++)
        {
            final int address = k % 2 == 0 ? random.nextInt() : routes.get(random.nextInt(routes.size()))[0] ^
                random.nextInt(256);
            keys.append(format(address)).append('\n');
            int bestLength = -1;
            int bestMetric = Integer.MAX_VALUE;
            int bestHop = 0;
            for (final int[] r : routes)
            {
                final int mask = -1 << (32 - r[1]);
                if ((address & mask) == r[0] && (r[1] > bestLength || r[1] == bestLength && r[3] < bestMetric))
                {
                    bestLength = r[1];
                    bestMetric = r[3];
                    bestHop = r[2];
                }
            }
            expected.append(format(address)).append(' ').append(bestLength < 0 ? "-" : format(bestHop)).append('\n');
        }
        final Path keyFile = tmp.resolve("keys.txt");
        Files.writeString(keyFile, keys);

        final PrintStream saved = System.out;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        final int code;
        try
        {
            code = Main.execute("fib", "lookup", "--routes", routeFile.toString(), "--keys", keyFile.toString());
        }
        finally
        {
            System.setOut(saved);
        }
        assertEquals(0, code);
        final String[] want = expected.toString().split("\n");
        final String[] got = captured.toString().split("\n");
        assertEquals(want.length, got.length, "lines");
        for (int i = 0; i < want.length; i++)
        {
            assertEquals(want[i], got[i], "line " + (i + 1));
        }
    }

    @Test
    void shouldNameTheLineOfABadRoute() throws Exception
    {
        final Path routeFile = tmp.resolve("bad.txt");
        Files.writeString(routeFile, "10.0.0.0/8 10.1.1.1 100\n\n10.0.0.0/33 10.1.1.1\n");
        final StringWriter err = new StringWriter();
        final int code = Main.execute(new PrintWriter(err, true), "fib", "lookup", "--routes", routeFile.toString(),
            "--keys", routeFile.toString());
        assertNotEquals(0, code);
        assertEquals("edgeplane: error: " + routeFile + ":3: prefix length 33 not in 0..32", err.toString().strip());
    }
}
