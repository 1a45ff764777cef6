package io.edgeplane.control.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Durable record of every accepted control-plane change: a snapshot ({@code state.json}, written to a temp file,
 * fsynced, atomically renamed, directory fsynced) plus an append-only journal ({@code journal.log}) of the changes
 * since, one record each, fsynced before the change is acknowledged.
 *
 * <pre>
 * journal record:  +-----------------+-----------------+------------------------------+
 *                  | length (int32)  | CRC32C (int32)  | JSON op with "seq" (length B) |
 *                  +-----------------+-----------------+------------------------------+
 * </pre>
 * Recovery reads the snapshot, then journal records with a sequence above the snapshot's, and stops at the first
 * torn or corrupt record (a crash mid-append): such a record was never acknowledged. Every op is a set or delete of
 * one key, so replaying an op already in the snapshot is harmless. After {@link #COMPACT_AFTER} records the state
 * is rewritten as a snapshot and the journal restarts. Calls are serialised by the caller.
 */
public final class StateStore implements AutoCloseable
{
    public static final int COMPACT_AFTER = 1000;
    public static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final int MAX_RECORD = 1 << 20;

    private final Path directory;
    private final Path snapshotPath;
    private final Path journalPath;
    private final ObjectMapper mapper = new ObjectMapper();
    private FileChannel journal;
    private long sequence;
    private int journalRecords;

    /** What was on disk: the snapshot (or null) and the ops after it, in order. */
    public record Recovered(JsonNode snapshot, List<JsonNode> ops, long sequence)
    {
    }

    public StateStore(final Path directory) throws IOException
    {
        this.directory = directory;
        this.snapshotPath = directory.resolve("state.json");
        this.journalPath = directory.resolve("journal.log");
        Files.createDirectories(directory);
        restrict(directory, DIRECTORY_MODE);
        for (final Path file : new Path[] {snapshotPath, journalPath})
        {
            if (Files.exists(file))
            {
                restrict(file, FILE_MODE);
            }
        }
    }

    /**
     * The state records the box's routes and neighbors: only its owner may read it. Sets {@code mode} where the
     * file system has POSIX permissions.
     */
    public static void restrict(final Path path, final Set<PosixFilePermission> mode) throws IOException
    {
        try
        {
            Files.setPosixFilePermissions(path, mode);
        }
        catch (final UnsupportedOperationException ignored)
        {
            // Not a POSIX file system: nothing to restrict.
        }
    }

    /** Read what is persisted; call once, before {@link #open}. */
    public Recovered recover() throws IOException
    {
        JsonNode snapshot = null;
        long snapshotSequence = 0;
        if (Files.exists(snapshotPath))
        {
            snapshot = mapper.readTree(Files.readAllBytes(snapshotPath));
            snapshotSequence = snapshot.path("sequence").asLong(0);
        }
        final List<JsonNode> ops = new ArrayList<>();
        long last = snapshotSequence;
        if (Files.exists(journalPath))
        {
            final ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(journalPath));
            while (data.remaining() >= 8)
            {
                final int length = data.getInt();
                final int crc = data.getInt();
                if (length <= 0 || length > MAX_RECORD || length > data.remaining())
                {
                    break;
                }
                final byte[] record = new byte[length];
                data.get(record);
                final CRC32C check = new CRC32C();
                check.update(record);
                if ((int)check.getValue() != crc)
                {
                    break;
                }
                final JsonNode op = mapper.readTree(record);
                final long seq = op.path("seq").asLong(0);
                if (seq > last)
                {
                    ops.add(op);
                    last = seq;
                }
            }
        }
        sequence = last;
        return new Recovered(snapshot, ops, last);
    }

    /** Start journaling after recovery: the state given becomes the snapshot and the journal starts empty. */
    public void open(final ObjectNode state) throws IOException
    {
        writeSnapshot(state);
        journal = FileChannel.open(journalPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        restrict(journalPath, FILE_MODE);
        journal.truncate(0);
        journal.force(true);
    }

    /**
     * Append one op durably. On return the op is on disk.
     *
     * @return true when the caller should {@link #compact} (the journal is long).
     */
    public boolean append(final ObjectNode op) throws IOException
    {
        op.put("seq", sequence + 1);
        final byte[] record = mapper.writeValueAsBytes(op);
        final CRC32C crc = new CRC32C();
        crc.update(record);
        final ByteBuffer buffer = ByteBuffer.allocate(8 + record.length);
        buffer.putInt(record.length).putInt((int)crc.getValue()).put(record).flip();
        while (buffer.hasRemaining())
        {
            journal.write(buffer);
        }
        journal.force(false);
        sequence++;
        journalRecords++;
        return journalRecords >= COMPACT_AFTER;
    }

    /** Rewrite the whole state as a snapshot and restart the journal. */
    public void compact(final ObjectNode state) throws IOException
    {
        writeSnapshot(state);
        journal.truncate(0);
        journal.force(true);
        journalRecords = 0;
    }

    private void writeSnapshot(final ObjectNode state) throws IOException
    {
        state.put("sequence", sequence);
        final Path temp = directory.resolve("state.json.tmp");
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING))
        {
            restrict(temp, FILE_MODE);
            final ByteBuffer data = ByteBuffer.wrap(mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
            while (data.hasRemaining())
            {
                out.write(data);
            }
            out.force(true);
        }
        try
        {
            Files.move(temp, snapshotPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final AtomicMoveNotSupportedException ex)
        {
            throw new IOException(directory + " does not support atomic rename", ex);
        }
        syncDirectory();
    }

    private void syncDirectory()
    {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ))
        {
            dir.force(true);
        }
        catch (final IOException | UnsupportedOperationException ignored)
        {
            // Some file systems cannot fsync a directory; the rename is still atomic there.
        }
    }

    public long sequence()
    {
        return sequence;
    }

    @Override
    public void close() throws IOException
    {
        if (journal != null)
        {
            journal.close();
        }
    }
}
