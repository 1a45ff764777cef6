package io.edgeplane.port;

import io.edgeplane.buffer.PacketPool;

/**
 * Where transmitted frames go (a pcap file, a memory ring, a live interface). Called by the worker thread; the sink
 * must copy or send the frame before returning, because the slot is freed right after.
 */
@FunctionalInterface
public interface TxSink
{
    void transmit(int port, PacketPool pool, int handle);
}
