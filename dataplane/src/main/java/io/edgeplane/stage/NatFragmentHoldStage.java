package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.trace.PacketTracer;

/**
 * Where the nat stage parks a fragment that came before its datagram's first fragment: a terminal stage that keeps
 * the packet's slot (the nat stage remembers the handle, and later sends it on or drops it through the graph).
 */
public final class NatFragmentHoldStage extends Stage
{
    public static final String NAME = "nat-fragment-hold";

    public NatFragmentHoldStage(final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer)
    {
        super(NAME, pool, counters, tracer);
    }

    @Override
    public boolean terminal()
    {
        return true;
    }

    @Override
    protected void process(final PacketBatch batch)
    {
        // The nat stage holds these packets; nothing to do until it releases them.
    }
}
