package io.edgeplane.control.replay;

import io.edgeplane.port.PreloadedTrace;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

import java.io.EOFException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.concurrent.TimeoutException;

/**
 * pcap file I/O through pcap4j (libpcap underneath), raw bytes only: frames are never decoded into pcap4j packet
 * objects. Reading accepts what libpcap accepts (pcap in either byte order and precision, and pcapng) with
 * Ethernet link type; every failure becomes one {@link TraceFileException} line.
 */
public final class PcapFiles
{
    public static final int SNAPLEN = 262144;

    private PcapFiles()
    {
    }

    public static PreloadedTrace read(final Path path) throws TraceFileException
    {
        if (!Files.isRegularFile(path))
        {
            throw new TraceFileException(path + ": no such file");
        }
        final PcapHandle handle;
        try
        {
            handle = Pcaps.openOffline(path.toString(), PcapHandle.TimestampPrecision.NANO);
        }
        catch (final PcapNativeException ex)
        {
            throw new TraceFileException(path + ": not a readable pcap/pcapng file (" + oneLine(ex.getMessage()) + ")");
        }
        catch (final UnsatisfiedLinkError | NoClassDefFoundError ex)
        {
            throw new TraceFileException("libpcap is not installed: run 'apt-get install -y libpcap0.8'");
        }
        try
        {
            if (handle.getDlt() != DataLinkType.EN10MB)
            {
                throw new TraceFileException(path + ": unsupported link type " + handle.getDlt() +
                    " (only Ethernet, DLT_EN10MB, is supported)");
            }
            final PreloadedTrace trace = new PreloadedTrace();
            while (true)
            {
                final byte[] frame;
                try
                {
                    frame = handle.getNextRawPacketEx();
                }
                catch (final EOFException ex)
                {
                    break;
                }
                catch (final PcapNativeException ex)
                {
                    throw new TraceFileException(path + ": bad record " + (trace.count() + 1) + " (" +
                        oneLine(ex.getMessage()) + ")");
                }
                catch (final TimeoutException ex)
                {
                    continue;
                }
                final Timestamp ts = handle.getTimestamp();
                final long nanos = Math.floorDiv(ts.getTime(), 1000L) * 1_000_000_000L + ts.getNanos();
                trace.add(frame, frame.length, nanos);
            }
            return trace;
        }
        catch (final NotOpenException ex)
        {
            throw new IllegalStateException(ex);
        }
        finally
        {
            handle.close();
        }
    }

    private static String oneLine(final String message)
    {
        return message == null ? "unknown error" : message.replace('\n', ' ').trim();
    }

    /** A pcap file written through libpcap's dumper (microsecond timestamps, Ethernet). */
    public static final class Writer implements AutoCloseable
    {
        private final PcapHandle dead;
        private final PcapDumper dumper;
        private final Timestamp timestamp = new Timestamp(0);

        public Writer(final Path path) throws TraceFileException
        {
            try
            {
                dead = Pcaps.openDead(DataLinkType.EN10MB, SNAPLEN, PcapHandle.TimestampPrecision.MICRO);
                dumper = dead.dumpOpen(path.toString());
            }
            catch (final PcapNativeException | NotOpenException ex)
            {
                throw new TraceFileException(path + ": cannot write (" + oneLine(ex.getMessage()) + ")");
            }
        }

        public void write(final byte[] frame, final long timestampNanos)
        {
            timestamp.setTime(Math.floorDiv(timestampNanos, 1_000_000L));
            timestamp.setNanos((int)Math.floorMod(timestampNanos, 1_000_000_000L));
            try
            {
                dumper.dumpRaw(frame, timestamp);
            }
            catch (final NotOpenException ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        @Override
        public void close()
        {
            dumper.close();
            dead.close();
        }
    }
}
