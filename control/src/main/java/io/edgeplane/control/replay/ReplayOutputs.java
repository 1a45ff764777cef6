package io.edgeplane.control.replay;

import io.edgeplane.config.DataplaneConfig;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The frames one vector produced, per port and drops, each appended straight to its port's {@link PcapWriter} (one
 * per port and one for drops, each opened when its first frame comes), then ended together so that each file gets
 * them in timestamp order (stable: equal timestamps keep the order the pipeline produced them in). They are copied
 * once, from the packet's slot into the writer's buffer. No allocation per frame. On a failure every file this
 * replay wrote is removed, so a full disk never leaves truncated or empty pcaps that look like results.
 */
final class ReplayOutputs
{
    static final int DROPS = -1;
    /** The most frame bytes one vector holds before it is ended early (a vector of pool slots fits). */
    private static final int VECTOR_BYTES = 8 << 20;

    private final DataplaneConfig config;
    private final Path outDir;
    private final PcapWriter[] portWriters;
    private PcapWriter dropWriter;
    /** The frame bytes the current vector holds. */
    private int used;
    private final Map<String, Path> files = new TreeMap<>();

    ReplayOutputs(final DataplaneConfig config, final Path outDir)
    {
        this.config = config;
        this.outDir = outDir;
        this.portWriters = new PcapWriter[config.ports().size()];
    }

    /** Add a frame for {@code port} ({@link #DROPS} for drops.pcap) to the current vector. */
    void stage(final int toPort, final DirectBuffer source, final int from, final int bytes, final long nanos)
        throws TraceFileException
    {
        if (used + bytes > VECTOR_BYTES)
        {
            endVector();
        }
        writer(toPort).append(source, from, bytes, nanos);
        used += bytes;
    }

    /** End the current vector: each file gets its frames in timestamp order (a writer without any has none open). */
    void endVector()
    {
        for (final PcapWriter writer : portWriters)
        {
            if (writer != null)
            {
                writer.endVector();
            }
        }
        if (dropWriter != null)
        {
            dropWriter.endVector();
        }
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
