package io.edgeplane.control.replay;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.port.PortTable;
import io.edgeplane.port.TxSink;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.Json;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.Workers;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays a capture file through a dataplane built from a config, one worker, streaming: the file is read a vector
 * at a time ({@link PcapReader}), so memory stays bounded whatever its size, and writes {@code <Port>.pcap} for every
 * port that sent something, {@code drops.pcap} (dropped frames exactly as they arrived), {@code counters.json} and,
 * when tracing, {@code trace.txt}. Deterministic: the same trace and config give byte-identical files. A failure
 * (a broken record, a full disk) removes what was written and ends in one {@link TraceFileException} line.
 */
public final class Replay
{
    /**
     * Told about progress every {@link #PROGRESS_FRAMES} frames (a terminal progress line), and asked once per
     * vector whether the replay is still wanted (a replay server's client may have gone).
     */
    @FunctionalInterface
    public interface Progress
    {
        void update(long packets, long elapsedNanos);

        /** True when nobody waits for this replay any more: it ends as a failure, its outputs removed. */
        default boolean cancelled()
        {
            return false;
        }
    }

    public static final int PROGRESS_FRAMES = 1 << 20;

    private Replay()
    {
    }

    /** One input trace and the port its frames enter on (-1: by pcapng interface name, else the first port). */
    public record Input(Path path, int port)
    {
    }

    /**
     * @param inPort the port every frame enters on, or -1 to map pcapng interfaces to ports by name (first port
     *               otherwise).
     */
    public static ReplayResult run(final DataplaneConfig config, final Path in, final int inPort,
        final int traceFirst, final Path outDir, final Progress progress) throws TraceFileException, ConfigException
    {
        return run(config, List.of(new Input(in, inPort)), traceFirst, outDir, progress);
    }

    /**
     * Replay several traces at once, each entering on its own port (a NAT's inside and outside traffic), merged by
     * timestamp: frames enter in time order across the inputs, and at equal times in the order of the inputs.
     */
    public static ReplayResult run(final DataplaneConfig config, final List<Input> inputs, final int traceFirst,
        final Path outDir, final Progress progress) throws TraceFileException, ConfigException
    {
        prepare(config, outDir);
        final ReplayOutputs outputs = new ReplayOutputs(config, outDir);
        final Merge merge = new Merge(inputs.size(), outputs);
        try
        {
            for (int i = 0; i < merge.count; i++)
            {
                merge.readers[i] = PcapReader.open(inputs.get(i).path());
                merge.batches[i] = new PcapReader.Batch(PacketBatch.VECTOR_SIZE);
                merge.portMaps[i] = new InterfacePorts(config, inputs.get(i).port());
            }
            // Replay runs the config's workers (one unless it names more) from this one thread, so its outputs
            // stay deterministic whatever the machine; the spread follows the config's seed.
            final TxSink tx = (port, p, h) -> merge.stage(port, p.buffer(), p.frameOffset(h), p.frameLength(h),
                p.timestampNanos(h));
            final PortTable portTable = new PortTable(config.ports());
            final Workers dataplane = new Workers(config, config.workersOr(1),
                Workers.multiplierFor(config.flowHashSeed()), Dataplane.DEFAULT_POOL_SLOTS, portTable, null,
                worker -> tx, (p, h, reason) -> merge.dropped(p.packetId(h), reason), List.of());
            merge.dataplane = dataplane;
            if (traceFirst > 0)
            {
                for (int w = 0; w < dataplane.count(); w++)
                {
                    dataplane.get(w).tracer().traceFirst(traceFirst);
                }
            }
            for (int i = 0; i < merge.count; i++)
            {
                merge.readers[i].readBatch(merge.batches[i]);
            }
            final long start = System.nanoTime();
            long nextProgress = PROGRESS_FRAMES;
            // One call per vector: the per-packet loop lives in a method the JIT compiles whole after a few
            // hundred vectors, not in this one, which runs once and could only be compiled on stack.
            while (merge.vector())
            {
                if (progress != null)
                {
                    if (progress.cancelled())
                    {
                        throw new TraceFileException("replay cancelled after " + merge.packets + " packets");
                    }
                    if (merge.packets >= nextProgress)
                    {
                        nextProgress += PROGRESS_FRAMES;
                        progress.update(merge.packets, System.nanoTime() - start);
                    }
                }
            }
            outputs.close();
            final long elapsed = System.nanoTime() - start;
            return finish(config, dataplane, outputs, outDir, traceFirst, merge.packets, elapsed);
        }
        catch (final TraceFileException | ConfigException | RuntimeException ex)
        {
            outputs.discard();
            throw ex;
        }
        finally
        {
            for (final PcapReader reader : merge.readers)
            {
                if (reader != null)
                {
                    reader.close();
                }
            }
        }
    }

    /**
     * The replay loop: the inputs' batches merged by timestamp into vectors, each received and processed by the
     * dataplane, its outputs written.
     */
    private static final class Merge
    {
        final int count;
        final ReplayOutputs outputs;
        final PcapReader[] readers;
        final PcapReader.Batch[] batches;
        final InterfacePorts[] portMaps;
        final int[] cursors;
        // The vector being merged: which input and which frame of its batch each packet came from.
        final int[] fromInput = new int[PacketBatch.VECTOR_SIZE];
        final int[] fromIndex = new int[PacketBatch.VECTOR_SIZE];
        // A frame can be dropped twice (an ICMP error built from it may itself be undeliverable): write it once.
        final boolean[] droppedOnce = new boolean[PacketBatch.VECTOR_SIZE];
        /** The first failure to stage an output from inside the dataplane (which cannot throw it): thrown after. */
        TraceFileException sinkFailure;
        Workers dataplane;
        int merged;
        long packets;

        Merge(final int count, final ReplayOutputs outputs)
        {
            this.count = count;
            this.outputs = outputs;
            readers = new PcapReader[count];
            batches = new PcapReader.Batch[count];
            portMaps = new InterfacePorts[count];
            cursors = new int[count];
        }

        /** A dropped frame of the current vector goes to drops.pcap as it arrived (once). */
        void dropped(final long packetId, final DropReason reason)
        {
            final int index = (int)(packetId - packets - 1);
            if (reason.isDrop() && index >= 0 && index < merged && !droppedOnce[index])
            {
                droppedOnce[index] = true;
                final PcapReader.Batch batch = batches[fromInput[index]];
                final int at = fromIndex[index];
                stage(ReplayOutputs.DROPS, readers[fromInput[index]].buffer(), batch.offsets[at], batch.lengths[at],
                    batch.timestamps[at]);
            }
        }

        /** Stage a frame the dataplane sent or dropped; a failure is kept for {@link #vector} to throw. */
        void stage(final int port, final DirectBuffer buffer, final int offset, final int length,
            final long timestamp)
        {
            try
            {
                outputs.stage(port, buffer, offset, length, timestamp);
            }
            catch (final TraceFileException ex)
            {
                if (sinkFailure == null)
                {
                    sinkFailure = ex;
                }
            }
        }

        /**
         * Merge, receive and process the next vector and write what it sent.
         *
         * @return false when every input was done before this call (nothing processed).
         */
        boolean vector() throws TraceFileException
        {
            while (true)
            {
                int next = -1;
                for (int i = 0; i < count; i++)
                {
                    if (cursors[i] < batches[i].count && (next < 0 ||
                        batches[i].timestamps[cursors[i]] < batches[next].timestamps[cursors[next]]))
                    {
                        next = i;
                    }
                }
                if (next >= 0)
                {
                    final PcapReader.Batch batch = batches[next];
                    final int at = cursors[next]++;
                    final int slot = merged++;
                    fromInput[slot] = next;
                    fromIndex[slot] = at;
                    final DropReason rxDrop = dataplane.receive(
                        portMaps[next].port(readers[next], batch.interfaces[at]), readers[next].buffer(),
                        batch.offsets[at], batch.lengths[at], packets + 1 + slot, batch.timestamps[at]);
                    if (rxDrop != null)
                    {
                        droppedOnce[slot] = true;
                        outputs.stage(ReplayOutputs.DROPS, readers[next].buffer(), batch.offsets[at],
                            batch.lengths[at], batch.timestamps[at]);
                    }
                    // An input's batch is reused when it is read again: finish the vector before that.
                    if (merged < PacketBatch.VECTOR_SIZE && cursors[next] < batch.count)
                    {
                        continue;
                    }
                }
                final boolean processed = merged > 0;
                if (processed)
                {
                    dataplane.flush();
                    if (sinkFailure != null)
                    {
                        throw sinkFailure;
                    }
                    outputs.endVector();
                    packets += merged;
                    merged = 0;
                    Arrays.fill(droppedOnce, false);
                }
                if (next < 0)
                {
                    return processed; // the last vector still counts; the call after it finds nothing
                }
                for (int i = 0; i < count; i++)
                {
                    if (cursors[i] == batches[i].count && batches[i].count > 0)
                    {
                        readers[i].readBatch(batches[i]);
                        cursors[i] = 0;
                    }
                }
                if (processed)
                {
                    return true;
                }
            }
        }
    }

    private static void prepare(final DataplaneConfig config, final Path outDir) throws TraceFileException
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
            throw new TraceFileException(outDir + ": cannot prepare output directory (" + reason(ex) + ")");
        }
    }

    /** What went wrong, in words: the JDK's file exceptions often say no more than the path. */
    static String reason(final IOException ex)
    {
        if (ex instanceof FileAlreadyExistsException)
        {
            return "exists and is not a directory";
        }
        if (ex instanceof AccessDeniedException)
        {
            return "permission denied";
        }
        if (ex instanceof NoSuchFileException)
        {
            return "no such file or directory";
        }
        if (ex instanceof FileSystemException && ((FileSystemException)ex).getReason() != null)
        {
            return ((FileSystemException)ex).getReason();
        }
        return ex.getMessage();
    }

    private static ReplayResult finish(final DataplaneConfig config, final Workers dataplane,
        final ReplayOutputs outputs, final Path outDir, final int traceFirst, final long packets, final long elapsed)
        throws TraceFileException
    {
        final DataplaneCounters.Snapshot snapshot = dataplane.counters().snapshot();
        String traceText = "";
        if (traceFirst > 0)
        {
            if (dataplane.count() == 1)
            {
                traceText = dataplane.first().formatTrace();
            }
            else
            {
                // Each worker traces the first packets it owns; its section says which worker decided.
                final StringBuilder all = new StringBuilder();
                for (int w = 0; w < dataplane.count(); w++)
                {
                    all.append("=== worker ").append(w).append(" ===\n").append(dataplane.get(w).formatTrace());
                }
                traceText = all.toString();
            }
        }
        final Path countersPath = outDir.resolve("counters.json");
        try
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("packets", packets);
            json.put("ports", snapshot.ports);
            json.put("stages", snapshot.stages);
            json.put("drops", snapshot.drops);
            outputs.written("counters", countersPath);
            // The config's mapper, already built (a second one costs its own start-up).
            Json.STRICT.writerWithDefaultPrettyPrinter().writeValue(countersPath.toFile(), json);
            if (traceFirst > 0)
            {
                final Path tracePath = outDir.resolve("trace.txt");
                outputs.written("trace", tracePath);
                Files.writeString(tracePath, traceText);
            }
        }
        catch (final IOException ex)
        {
            throw new TraceFileException(countersPath.getParent() + ": cannot write (" + ex.getMessage() + ")");
        }
        return new ReplayResult(packets, snapshot, outputs.files(), traceText, elapsed);
    }
}
