package io.edgeplane.control.replay;

import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.port.PreloadedTrace;

import java.nio.file.Path;

/** Loading a whole capture into memory, for benchmarks and tests (replay itself streams). */
public final class Traces
{
    private Traces()
    {
    }

    /** Every frame of {@code path}, each with the port it enters on (see {@link InterfacePorts}). */
    public static PreloadedTrace preload(final Path path, final DataplaneConfig config, final int explicitPort)
        throws TraceFileException
    {
        final PreloadedTrace trace = new PreloadedTrace();
        final InterfacePorts ports = config == null ? null : new InterfacePorts(config, explicitPort);
        try (PcapReader reader = PcapReader.open(path))
        {
            final PcapReader.Batch batch = new PcapReader.Batch(256);
            while (reader.readBatch(batch) > 0)
            {
                for (int i = 0; i < batch.count; i++)
                {
                    trace.add(reader.buffer(), batch.offsets[i], batch.lengths[i], batch.timestamps[i],
                        ports == null ? 0 : ports.port(reader, batch.interfaces[i]));
                }
            }
        }
        return trace;
    }

    /** Every frame of {@code path}, all on port 0. */
    public static PreloadedTrace preload(final Path path) throws TraceFileException
    {
        return preload(path, null, -1);
    }
}
