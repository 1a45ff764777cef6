package io.edgeplane.stage;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.DropSink;

/**
 * Counts a dropped packet under its reason and hands it to the drop sink (drops.pcap in replay). error-drop uses it
 * for every packet it frees; icmp-error uses it for the original of an error it builds in the same buffer, so the
 * original still shows up in counters and drops.pcap. Owned by the worker thread.
 */
public final class DropRecorder
{
    private final PacketPool pool;
    private final DataplaneCounters counters;
    private final DropSink sink;

    public DropRecorder(final PacketPool pool, final DataplaneCounters counters, final DropSink sink)
    {
        this.pool = pool;
        this.counters = counters;
        this.sink = sink;
    }

    /** Count (now) and report one packet. */
    public void record(final int h, final DropReason reason)
    {
        counters.drop(reason).incrementRelease();
        sink.dropped(pool, h, reason);
    }

    /** Report one packet whose count the caller adds later, once per vector. */
    public void report(final int h, final DropReason reason)
    {
        sink.dropped(pool, h, reason);
    }
}
