package io.edgeplane.port;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DropReason;

/** Receives every dropped packet (already counted) before its slot is freed; replay writes them to drops.pcap. */
@FunctionalInterface
public interface DropSink
{
    DropSink NONE = (pool, handle, reason) ->
    {
    };

    void dropped(PacketPool pool, int handle, DropReason reason);
}
