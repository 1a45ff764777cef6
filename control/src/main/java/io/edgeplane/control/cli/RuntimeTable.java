package io.edgeplane.control.cli;

import io.edgeplane.counters.DataplaneCounters.StageRuntime;

import java.util.List;

/** The per-stage table of VPP's {@code show runtime}: packets, vectors, average vector size, ns per packet. */
final class RuntimeTable
{
    private RuntimeTable()
    {
    }

    static String format(final List<StageRuntime> rows)
    {
        final StringBuilder out = new StringBuilder();
        out.append(String.format("%-22s %14s %12s %8s %10s%n", "stage", "packets", "vectors", "vec-size",
            "ns/packet"));
        for (final StageRuntime row : rows)
        {
            if (row.packets() == 0)
            {
                continue;
            }
            out.append(String.format("%-22s %,14d %,12d %8.1f %10.2f%n", row.stage(), row.packets(), row.vectors(),
                row.vectorSize(), row.nanosPerPacket()));
        }
        return out.toString();
    }
}
