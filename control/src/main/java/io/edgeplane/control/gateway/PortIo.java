package io.edgeplane.control.gateway;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.stage.Dataplane;

/**
 * A config port bound to a live Linux interface. Every method is called by the worker thread only.
 */
public interface PortIo extends AutoCloseable
{
    /** Frames read go to this dataplane. */
    void attach(Dataplane dataplane);

    /** Read a burst of waiting frames into the dataplane; returns how many. Never blocks. */
    int poll();

    /** Queue or send one frame from the pool; the caller frees the slot when this returns. */
    void send(PacketPool pool, int handle);

    /** Send whatever {@link #send} queued. */
    void flush();

    /** Frames the kernel dropped before the gateway read them (cumulative). */
    long captureDrops();

    /** Reads and sends the kernel refused (cumulative). */
    long errors();

    @Override
    void close();
}
