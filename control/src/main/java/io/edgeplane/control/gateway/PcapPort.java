package io.edgeplane.control.gateway;

import io.edgeplane.buffer.PacketPool;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.ReceiveOffloads;
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
     * Capture length: whole TCP super-frames (TSO/GSO, up to 64 KiB) must arrive to be segmented. libpcap's
     * TPACKET_V3 ring packs frames by their real length, so the large snaplen costs no ring space.
     */
    public static final int SNAPLEN = 65_600;
    public static final int RING_BYTES = 32 << 20;
    public static final int POLL_BURST = 64;

    private final int index;
    private final PcapHandle handle;
    private final byte[] transmit;
    private final UnsafeBuffer frame = new UnsafeBuffer(new byte[0]);
    private final RawPacketListener listener;
    private final int mtu;
    private ReceiveOffloads offloads;
    private Dataplane dataplane;
    private long packetIds;
    private long errors;

    public PcapPort(final int index, final String portName, final String device, final int mtu)
        throws GatewayException
    {
        this.index = index;
        this.transmit = new byte[mtu + 64];
        this.mtu = mtu;
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
        // libpcap does not say which frames carry a partial checksum (TP_STATUS_CSUMNOTREADY): every TCP and UDP
        // checksum is computed again, which also rewrites a corrupt one (AF_PACKET ports know and do not).
        listener = packet ->
        {
            frame.wrap(packet);
            packetIds += offloads.receive(this.index, frame, 0, packet.length, true, this.mtu, packetIds + 1,
                System.nanoTime());
        };
    }

    @Override
    public void attach(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
        this.offloads = new ReceiveOffloads(dataplane);
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
            dataplane.txFailed(index, 1, length);
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
            dataplane.txFailed(index, 1, length);
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
