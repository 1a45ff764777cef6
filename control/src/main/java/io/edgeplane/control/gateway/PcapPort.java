package io.edgeplane.control.gateway;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.stage.Dataplane;
import org.agrona.concurrent.UnsafeBuffer;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapNetworkInterface;
import org.pcap4j.core.RawPacketListener;

/**
 * One config port bound to a Linux interface through pcap4j (the portable path; {@link AfPacketPort} is faster):
 * non-blocking, immediate mode, inbound direction only (so frames we send are not read back), promiscuous (the
 * gateway's MAC is the config's, not necessarily the device's). Received frames are copied from pcap4j's byte array
 * straight into a pool slot; nothing is decoded. Owned by the worker thread.
 */
public final class PcapPort implements PortIo
{
    /**
     * Capture length: a frame never exceeds a pool slot, and libpcap sizes each ring slot by the snaplen, so a
     * 64 KiB snaplen would leave a 16 MiB ring with room for only ~250 frames.
     */
    public static final int SNAPLEN = 2048;
    public static final int RING_BYTES = 32 << 20;
    public static final int POLL_BURST = 64;

    private final int index;
    private final PcapHandle handle;
    private final byte[] transmit;
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[0]);
    private final RawPacketListener listener;
    private Dataplane dataplane;
    private long packetIds;
    private long errors;

    public PcapPort(final int index, final String portName, final String device, final int mtu)
        throws GatewayException
    {
        this.index = index;
        this.transmit = new byte[mtu + 64];
        try
        {
            handle = new PcapHandle.Builder(device)
                .snaplen(SNAPLEN)
                .promiscuousMode(PcapNetworkInterface.PromiscuousMode.PROMISCUOUS)
                .timeoutMillis(1)
                .immediateMode(true)
                .bufferSize(RING_BYTES)
                .direction(PcapHandle.PcapDirection.IN)
                .build();
            handle.setBlockingMode(PcapHandle.BlockingMode.NONBLOCKING);
        }
        catch (final PcapNativeException | NotOpenException ex)
        {
            final String message = ex.getMessage() == null ? "unknown error" : ex.getMessage().replace('\n', ' ');
            throw new GatewayException(portName + ": cannot open device " + device + " (" + message + ")" +
                (message.contains("ermission") || message.contains("not permitted") ?
                "; run as root or grant CAP_NET_RAW" : ""));
        }
        catch (final UnsatisfiedLinkError | NoClassDefFoundError ex)
        {
            throw new GatewayException("libpcap is not installed: run 'apt-get install -y libpcap0.8'");
        }
        listener = packet ->
        {
            frame.wrap(packet);
            dataplane.receive(this.index, frame, 0, packet.length, ++packetIds, System.nanoTime());
        };
    }

    @Override
    public void attach(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
    }

    @Override
    public int poll()
    {
        try
        {
            final int count = handle.dispatch(POLL_BURST, listener);
            return Math.max(count, 0);
        }
        catch (final PcapNativeException | NotOpenException ex)
        {
            errors++;
            return 0;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** Sends at once (copied into a reused array: pcap4j's send takes a byte[]). */
    @Override
    public void send(final PacketPool pool, final int h)
    {
        final int length = pool.frameLength(h);
        if (length > transmit.length)
        {
            errors++;
            return;
        }
        pool.buffer().getBytes(pool.frameOffset(h), transmit, 0, length);
        try
        {
            handle.sendPacket(transmit, length);
        }
        catch (final PcapNativeException | NotOpenException ex)
        {
            errors++;
        }
    }

    @Override
    public void flush()
    {
    }

    /** Per pcap_stats: dropped by the ring and by the interface. */
    @Override
    public long captureDrops()
    {
        try
        {
            final org.pcap4j.core.PcapStat stat = handle.getStats();
            return stat.getNumPacketsDropped() + stat.getNumPacketsDroppedByIf();
        }
        catch (final PcapNativeException | NotOpenException ex)
        {
            return -1;
        }
    }

    @Override
    public long errors()
    {
        return errors;
    }

    @Override
    public void close()
    {
        handle.close();
    }
}
