package io.edgeplane.trace;

import io.edgeplane.counters.DropReason;

import java.util.Arrays;

/**
 * A copy of the tracer's records, taken on the worker (a few array copies) and formatted to text anywhere else,
 * grouped per packet in the order packets were first seen:
 * <pre>
 * packet 17
 *   ethernet-input   len 98 type 0x800                         -> ip4-input
 *   ip4-input        10.1.0.10 -> 10.2.0.20 proto 1 ttl 64 ...  -> ip4-lookup
 *   ...
 *   error-drop                                                   drop ip4-no-route
 * </pre>
 * Off the hot path: allocates freely.
 */
public final class TraceRecords
{
    private static final String ERROR_DROP = "error-drop";

    private final long[] packetId;
    private final int[] stage;
    private final int[] next;
    private final int[] reason;
    private final int[] a;
    private final int[] b;
    private final int[] c;
    private final int[] d;
    private final long lost;

    /** Names stages and formats their records: the assembled graph. */
    public interface Formatter
    {
        String stageName(int stage);

        /** A stage that consumes packets (transmit): its records have no "next". */
        boolean isTerminal(int stage);

        void formatRecord(int stage, int a, int b, int c, int d, StringBuilder out);
    }

    TraceRecords(final int count, final long lost, final long[] packetId, final int[] stage, final int[] next,
        final int[] reason, final int[] a, final int[] b, final int[] c, final int[] d)
    {
        this.packetId = Arrays.copyOf(packetId, count);
        this.stage = Arrays.copyOf(stage, count);
        this.next = Arrays.copyOf(next, count);
        this.reason = Arrays.copyOf(reason, count);
        this.a = Arrays.copyOf(a, count);
        this.b = Arrays.copyOf(b, count);
        this.c = Arrays.copyOf(c, count);
        this.d = Arrays.copyOf(d, count);
        this.lost = lost;
    }

    public int count()
    {
        return packetId.length;
    }

    public long lost()
    {
        return lost;
    }

    public String format(final Formatter formatter)
    {
        final StringBuilder out = new StringBuilder();
        final int count = count();
        final boolean[] done = new boolean[count];
        for (int i = 0; i < count; i++)
        {
            if (done[i])
            {
                continue;
            }
            final long id = packetId[i];
            out.append("packet ").append(id).append('\n');
            for (int j = i; j < count; j++)
            {
                if (!done[j] && packetId[j] == id)
                {
                    done[j] = true;
                    formatRecord(formatter, j, out);
                }
            }
        }
        if (lost > 0)
        {
            out.append("(").append(lost).append(" trace records lost: trace buffer full)\n");
        }
        return out.toString();
    }

    private void formatRecord(final Formatter formatter, final int record, final StringBuilder out)
    {
        final int s = stage[record];
        final int lineStart = out.length();
        out.append("  ").append(formatter.stageName(s));
        pad(out, lineStart + 20);
        formatter.formatRecord(s, a[record], b[record], c[record], d[record], out);
        if (formatter.isTerminal(s))
        {
            out.append('\n');
            return;
        }
        pad(out, lineStart + 72);
        final String nextName = formatter.stageName(next[record]);
        if (ERROR_DROP.equals(nextName))
        {
            final DropReason dropReason = DropReason.byId(reason[record]);
            out.append(" drop ").append(dropReason == null ? "?" : dropReason.label());
        }
        else
        {
            out.append(" -> ").append(nextName);
        }
        out.append('\n');
    }

    private static void pad(final StringBuilder out, final int column)
    {
        out.append(' ');
        while (out.length() < column)
        {
            out.append(' ');
        }
    }
}
