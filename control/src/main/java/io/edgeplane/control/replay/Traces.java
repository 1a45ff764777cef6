package io.edgeplane.control.replay;

import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.TextFiles;
import io.edgeplane.port.PreloadedTrace;

import java.nio.file.Path;

/** Loading a whole capture into memory, for benchmarks and tests (replay itself streams). */
public final class Traces
{
    /** The most frame bytes preloaded: a benchmark loops its trace, it does not need a capture of gigabytes. */
    public static final int MAX_PRELOAD_BYTES = 1 << 30;

    private Traces()
    {
    }

    /** Every frame of {@code path}, each with the port it enters on (see {@link InterfacePorts}). */
    public static PreloadedTrace preload(final Path path, final DataplaneConfig config, final int explicitPort)
        throws TraceFileException
    {
        return preload(path, config, explicitPort, MAX_PRELOAD_BYTES);
    }

    /** As {@link #preload(Path, DataplaneConfig, int)}, refusing a trace of more than {@code maxBytes} of frames. */
    static PreloadedTrace preload(final Path path, final DataplaneConfig config, final int explicitPort,
        final int maxBytes) throws TraceFileException
    {
        final InterfacePorts ports = config == null ? null : new InterfacePorts(config, explicitPort);
        try (PcapReader reader = PcapReader.open(path))
        {
            final PreloadedTrace trace = new PreloadedTrace((int)Math.min(maxBytes, reader.fileSize()));
            final PcapReader.Batch batch = new PcapReader.Batch(256);
            while (reader.readBatch(batch) > 0)
            {
                for (int i = 0; i < batch.count; i++)
                {
                    if (trace.bytes() + batch.lengths[i] > maxBytes)
                    {
                        throw new TraceFileException(path + ": more than " + TextFiles.size(maxBytes) +
                            " of frames to preload (a benchmark loops its trace in memory; give it a shorter one, " +
                            "e.g. editcap -c 1000000)");
                    }
                    trace.add(reader.buffer(), batch.offsets[i], batch.lengths[i], batch.timestamps[i],
                        ports == null ? 0 : ports.port(reader, batch.interfaces[i]));
                }
            }
            return trace;
        }
    }

    /** Every frame of {@code path}, all on port 0. */
    public static PreloadedTrace preload(final Path path) throws TraceFileException
    {
        return preload(path, null, -1);
    }
}
