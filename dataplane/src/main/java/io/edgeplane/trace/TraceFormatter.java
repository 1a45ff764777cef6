package io.edgeplane.trace;

import io.edgeplane.counters.DropReason;
import io.edgeplane.stage.Pipeline;
import io.edgeplane.stage.StageId;

/**
 * Turns trace records into text, grouped per packet in the order packets were first seen:
 * <pre>
 * packet 17
 *   ethernet-input   len 98 type 0x800                         -> ip4-input
 *   ip4-input        10.1.0.10 -> 10.2.0.20 proto 1 ttl 64 ...  -> ip4-lookup
 *   ...
 *   error-drop                                                   drop ip4-no-route
 * </pre>
 * Off the hot path: allocates freely.
 */
public final class TraceFormatter
{
    private TraceFormatter()
    {
    }

    public static String format(final PacketTracer tracer, final Pipeline pipeline)
    {
        final StringBuilder out = new StringBuilder();
        final int count = tracer.count();
        final boolean[] done = new boolean[count];
        for (int i = 0; i < count; i++)
        {
            if (done[i])
            {
                continue;
            }
            final long id = tracer.packetId(i);
            out.append("packet ").append(id).append('\n');
            for (int j = i; j < count; j++)
            {
                if (!done[j] && tracer.packetId(j) == id)
                {
                    done[j] = true;
                    formatRecord(tracer, pipeline, j, out);
                }
            }
        }
        if (tracer.lost() > 0)
        {
            out.append("(").append(tracer.lost()).append(" trace records lost: trace buffer full)\n");
        }
        return out.toString();
    }

    private static void formatRecord(
        final PacketTracer tracer, final Pipeline pipeline, final int record, final StringBuilder out)
    {
        final int stage = tracer.stage(record);
        final int lineStart = out.length();
        out.append("  ").append(StageId.name(stage));
        pad(out, lineStart + 20);
        pipeline.stage(stage).formatTrace(
            tracer.a(record), tracer.b(record), tracer.c(record), tracer.d(record), out);
        final int next = tracer.next(record);
        if (stage == StageId.INTERFACE_OUTPUT)
        {
            out.append('\n');
            return;
        }
        pad(out, lineStart + 72);
        if (next == StageId.ERROR_DROP)
        {
            final DropReason reason = DropReason.byId(tracer.reason(record));
            out.append(" drop ").append(reason == null ? "?" : reason.label());
        }
        else
        {
            out.append(" -> ").append(StageId.name(next));
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
