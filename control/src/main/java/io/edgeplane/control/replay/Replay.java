package io.edgeplane.control.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.port.PreloadedTrace;
import io.edgeplane.stage.Dataplane;
import org.agrona.collections.IntHashSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Replays a preloaded trace through a dataplane built from a config, one worker, and writes
 * {@code <Port>.pcap} for every port that sent something, {@code drops.pcap} (dropped frames exactly as they
 * arrived), {@code counters.json} and, when tracing, {@code trace.txt}. Deterministic: the same trace and config
 * give byte-identical files.
 */
public final class Replay
{
    private static final int DROPS = -1;

    private Replay()
    {
    }

    public static ReplayResult run(
        final DataplaneConfig config, final PreloadedTrace trace, final int inPort, final int traceFirst,
        final Path outDir) throws TraceFileException, ConfigException
    {
        try
        {
            Files.createDirectories(outDir);
            for (final var port : config.ports())
            {
                Files.deleteIfExists(outDir.resolve(port.name() + ".pcap"));
            }
            Files.deleteIfExists(outDir.resolve("drops.pcap"));
            Files.deleteIfExists(outDir.resolve("counters.json"));
            Files.deleteIfExists(outDir.resolve("trace.txt"));
        }
        catch (final IOException ex)
        {
            throw new TraceFileException(outDir + ": cannot prepare output directory (" + ex.getMessage() + ")");
        }

        final PacketPool pool = new PacketPool(Dataplane.DEFAULT_POOL_SLOTS);
        final int portCount = config.ports().size();
        final PcapFiles.Writer[] portWriters = new PcapFiles.Writer[portCount];
        final PcapFiles.Writer[] dropWriter = new PcapFiles.Writer[1];
        final Map<String, Path> files = new TreeMap<>();
        final TraceFileException[] failure = new TraceFileException[1];
        final List<Output> pending = new ArrayList<>();
        // A frame can be dropped twice (an ICMP error built from it may itself be undeliverable): write it once.
        final IntHashSet droppedOnce = new IntHashSet();

        final Dataplane dataplane = new Dataplane(config, pool,
            (port, p, h) ->
            {
                final byte[] frame = new byte[p.frameLength(h)];
                p.buffer().getBytes(p.frameOffset(h), frame);
                pending.add(new Output(port, p.timestampNanos(h), frame));
            },
            (p, h, reason) ->
            {
                final int index = (int)p.packetId(h) - 1;
                if (reason.isDrop() && index >= 0 && index < trace.count() && droppedOnce.add(index))
                {
                    pending.add(new Output(DROPS, trace.timestampNanos(index), trace.copyFrame(index)));
                }
            });
        if (traceFirst > 0)
        {
            dataplane.tracer().traceFirst(traceFirst);
        }

        final long start = System.nanoTime();
        try
        {
            for (int i = 0, n = trace.count(); i < n; i++)
            {
                final DropReason rxDrop = dataplane.receive(
                    inPort, trace.buffer(), trace.offset(i), trace.length(i), i + 1, trace.timestampNanos(i));
                if (rxDrop != null)
                {
                    pending.add(new Output(DROPS, trace.timestampNanos(i), trace.copyFrame(i)));
                }
                if ((i + 1) % PacketBatch.VECTOR_SIZE == 0 || i == n - 1)
                {
                    dataplane.flush();
                    writePending(pending, config, outDir, portWriters, dropWriter, files, failure);
                }
            }
        }
        finally
        {
            for (final PcapFiles.Writer writer : portWriters)
            {
                if (writer != null)
                {
                    writer.close();
                }
            }
            if (dropWriter[0] != null)
            {
                dropWriter[0].close();
            }
        }
        final long elapsed = System.nanoTime() - start;
        if (failure[0] != null)
        {
            throw failure[0];
        }

        final DataplaneCounters.Snapshot snapshot = dataplane.counters().snapshot();
        final String traceText = traceFirst > 0 ? dataplane.formatTrace() : "";
        try
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("packets", trace.count());
            json.put("ports", snapshot.ports);
            json.put("stages", snapshot.stages);
            json.put("drops", snapshot.drops);
            final Path countersPath = outDir.resolve("counters.json");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(countersPath.toFile(), json);
            files.put("counters", countersPath);
            if (traceFirst > 0)
            {
                final Path tracePath = outDir.resolve("trace.txt");
                Files.writeString(tracePath, traceText);
                files.put("trace", tracePath);
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return new ReplayResult(trace.count(), snapshot, files, traceText, elapsed);
    }

    /** One transmitted frame, kept until its vector is done so each port's file is in timestamp order. */
    private record Output(int port, long timestampNanos, byte[] frame)
    {
    }

    private static void writePending(final List<Output> pending, final DataplaneConfig config, final Path outDir,
        final PcapFiles.Writer[] portWriters, final PcapFiles.Writer[] dropWriter, final Map<String, Path> files,
        final TraceFileException[] failure)
    {
        // Stable: frames with equal timestamps keep the order the pipeline sent them in.
        pending.sort(Comparator.comparingLong(Output::timestampNanos));
        for (final Output output : pending)
        {
            final int port = output.port();
            if (port == DROPS)
            {
                if (dropWriter[0] == null)
                {
                    final Path path = outDir.resolve("drops.pcap");
                    dropWriter[0] = open(path, failure);
                    files.put("drops", path);
                }
                if (dropWriter[0] != null)
                {
                    dropWriter[0].write(output.frame(), output.timestampNanos());
                }
                continue;
            }
            if (portWriters[port] == null)
            {
                final Path path = outDir.resolve(config.ports().get(port).name() + ".pcap");
                portWriters[port] = open(path, failure);
                files.put(config.ports().get(port).name(), path);
            }
            if (portWriters[port] != null)
            {
                portWriters[port].write(output.frame(), output.timestampNanos());
            }
        }
        pending.clear();
    }

    private static PcapFiles.Writer open(final Path path, final TraceFileException[] failure)
    {
        try
        {
            return new PcapFiles.Writer(path);
        }
        catch (final TraceFileException ex)
        {
            failure[0] = ex;
            return null;
        }
    }
}
