package io.edgeplane.control.replay;

import io.edgeplane.config.DataplaneConfig;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The frames one vector produced (per port, and drops), staged in one direct buffer with their metadata in
 * primitive arrays, then written in timestamp order (stable: equal timestamps keep the order the pipeline produced
 * them in) to one {@link PcapWriter} per port and one for drops, each opened when its first frame comes. No
 * allocation per frame. On a failure every file this replay wrote is removed, so a full disk never leaves
 * truncated or empty pcaps that look like results.
 */
final class ReplayOutputs
{
    static final int DROPS = -1;
    private static final int STAGING_BYTES = 8 << 20;

    private final DataplaneConfig config;
    private final Path outDir;
    private final UnsafeBuffer staging = new UnsafeBuffer(BufferUtil.allocateDirectAligned(STAGING_BYTES, 64));
    private int[] port = new int[1024];
    private int[] offset = new int[1024];
    private int[] length = new int[1024];
    private long[] timestamp = new long[1024];
    private int[] order = new int[1024];
    private int count;
    private int used;
    private final PcapWriter[] portWriters;
    private PcapWriter dropWriter;
    private final Map<String, Path> files = new TreeMap<>();

    ReplayOutputs(final DataplaneConfig config, final Path outDir)
    {
        this.config = config;
        this.outDir = outDir;
        this.portWriters = new PcapWriter[config.ports().size()];
    }

    /** Stage a copy of a frame for {@code port} ({@link #DROPS} for drops.pcap). */
    void stage(final int toPort, final DirectBuffer source, final int from, final int bytes, final long nanos)
        throws TraceFileException
    {
        if (used + bytes > STAGING_BYTES)
        {
            writeStaged();
        }
        if (count == port.length)
        {
            final int capacity = count * 2;
            port = Arrays.copyOf(port, capacity);
            offset = Arrays.copyOf(offset, capacity);
            length = Arrays.copyOf(length, capacity);
            timestamp = Arrays.copyOf(timestamp, capacity);
            order = Arrays.copyOf(order, capacity);
        }
        staging.putBytes(used, source, from, bytes);
        port[count] = toPort;
        offset[count] = used;
        length[count] = bytes;
        timestamp[count] = nanos;
        count++;
        used += bytes;
    }

    /** Write the staged frames in timestamp order and empty the stage. */
    void writeStaged() throws TraceFileException
    {
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }
        // Insertion sort: stable, and linear on the nearly sorted vectors a replay produces.
        for (int i = 1; i < count; i++)
        {
            final int item = order[i];
            final long key = timestamp[item];
            int j = i - 1;
            while (j >= 0 && timestamp[order[j]] > key)
            {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = item;
        }
        for (int k = 0; k < count; k++)
        {
            final int i = order[k];
            writer(port[i]).write(staging, offset[i], length[i], timestamp[i]);
        }
        count = 0;
        used = 0;
    }

    private PcapWriter writer(final int toPort) throws TraceFileException
    {
        if (toPort == DROPS)
        {
            if (dropWriter == null)
            {
                dropWriter = open("drops", outDir.resolve("drops.pcap"));
            }
            return dropWriter;
        }
        if (portWriters[toPort] == null)
        {
            final String name = config.ports().get(toPort).name();
            portWriters[toPort] = open(name, outDir.resolve(name + ".pcap"));
        }
        return portWriters[toPort];
    }

    private PcapWriter open(final String key, final Path path) throws TraceFileException
    {
        files.put(key, path);
        return new PcapWriter(path);
    }

    /** Add a file written by the caller (counters, trace) to the list, and to the cleanup. */
    void written(final String key, final Path path)
    {
        files.put(key, path);
    }

    Map<String, Path> files()
    {
        return files;
    }

    /** Complete every file; the first failure is thrown after all were tried. */
    void close() throws TraceFileException
    {
        TraceFileException failure = null;
        for (final PcapWriter writer : portWriters)
        {
            failure = closeInto(writer, failure);
        }
        failure = closeInto(dropWriter, failure);
        if (failure != null)
        {
            throw failure;
        }
    }

    private static TraceFileException closeInto(final PcapWriter writer, final TraceFileException failure)
    {
        if (writer == null)
        {
            return failure;
        }
        try
        {
            writer.close();
            return failure;
        }
        catch (final TraceFileException ex)
        {
            return failure == null ? ex : failure;
        }
    }

    /** After a failure: close quietly and remove every file written, so no partial result remains. */
    void discard()
    {
        try
        {
            close();
        }
        catch (final TraceFileException ignored)
        {
            // Already failing; the files go anyway.
        }
        for (final Path path : files.values())
        {
            try
            {
                Files.deleteIfExists(path);
            }
            catch (final IOException ignored)
            {
                // Best effort: the error the user sees is the original one.
            }
        }
    }
}
