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
    private static final String TEMP_NAME = "state.json.tmp";

    private final int compactAfter;
    private FileChannel journal;
    private long journalEnd;
    private boolean needsRepair;
    private long sequence;
    private int journalRecords;

    /** What was on disk: the snapshot (or null) and the ops after it, in order. */
    public record Recovered(JsonNode snapshot, List<JsonNode> ops, long sequence)
    {
    }

    public StateStore(final Path directory) throws IOException
    {
        this(directory, COMPACT_AFTER);
    }

    /** @param compactAfter journal records after which the state is rewritten as a snapshot. */
    public StateStore(final Path directory, final int compactAfter) throws IOException
    {
        this.compactAfter = compactAfter;
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

    /** Persisted state that cannot be trusted: recovery stops with this message rather than guess. */
    public static final class CorruptStateException extends IOException
    {
        private static final long serialVersionUID = 1L;

        CorruptStateException(final String message)
        {
            super(message);
        }
    }

    /**
     * Read what is persisted; call once, before {@link #open}. A torn record at the very end of the journal (an
     * append a crash or a full disk cut short: it was never acknowledged) is ignored. Damage anywhere else (a bad
     * checksum or length followed by more records, an unreadable snapshot) is a {@link CorruptStateException}: the
     * records after it were acknowledged, so the gateway must not start without them silently. With
     * {@code salvage}, the journal is moved aside ({@code journal.log.damaged-<time>}) and the good prefix is used.
     * A leftover {@code state.json.tmp} (a compaction that failed) is removed.
     */
    public Recovered recover(final boolean salvage) throws IOException
    {
        Files.deleteIfExists(directory.resolve(TEMP_NAME));
        JsonNode snapshot = null;
        long snapshotSequence = 0;
        if (Files.exists(snapshotPath))
        {
            try
            {
                snapshot = mapper.readTree(Files.readAllBytes(snapshotPath));
            }
            catch (final IOException ex)
            {
                throw new CorruptStateException(snapshotPath + " is not valid JSON (" + ex.getMessage()
                    .lines().findFirst().orElse("") + ")");
            }
            if (snapshot == null || !snapshot.isObject())
            {
                throw new CorruptStateException(snapshotPath + " is " + (snapshot == null ? "empty" :
                    "not a JSON object") + "; restore it from a backup or remove it to start from the config file");
            }
            snapshotSequence = snapshot.path("sequence").asLong(0);
        }
        final List<JsonNode> ops = new ArrayList<>();
        long last = snapshotSequence;
        if (Files.exists(journalPath))
        {
            final ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(journalPath));
            String damage = null;
            int recordNumber = 0;
            while (data.remaining() > 0 && damage == null)
            {
                final int start = data.position();
                recordNumber++;
                if (data.remaining() < 8)
                {
                    break; // a header cut short at the end: a torn append
                }
                final int length = data.getInt();
                final int crc = data.getInt();
                if (length <= 0 || length > MAX_RECORD || length > data.remaining())
                {
                    // A record cut short at the end, or zeros past the end, are a torn append; a length that
                    // claims too much with good records after it is damage.
                    final boolean torn = allZero(data, start) ||
                        length > data.remaining() && length <= MAX_RECORD && !validRecordAfter(data, start + 1);
                    damage = torn ? null : "record " + recordNumber + " at byte " + start + " has an impossible " +
                        "length " + length;
                    break;
                }
                final byte[] record = new byte[length];
                data.get(record);
                final CRC32C check = new CRC32C();
                check.update(record);
                JsonNode op = null;
                if ((int)check.getValue() == crc)
                {
                    try
                    {
                        op = mapper.readTree(record);
                    }
                    catch (final IOException ex)
                    {
                        op = null;
                    }
                }
                if (op == null || !op.isObject())
                {
                    // A whole record that fails its checksum was written and acknowledged, then damaged: an
                    // append cut short is shorter than its length says (above), never a full record.
                    damage = "record " + recordNumber + " at byte " + start + " fails its checksum" +
                        (data.remaining() == 0 ? " (the last record)" : " and " + data.remaining() +
                        " bytes of records follow it");
                    break;
                }
                final long seq = op.path("seq").asLong(0);
                if (seq > last)
                {
                    ops.add(op);
                    last = seq;
                }
            }
            if (damage != null)
            {
                if (!salvage)
                {
                    throw new CorruptStateException(journalPath + ": " + damage + "; the changes after it were " +
                        "acknowledged. Start with --salvage-journal to move the journal aside and start from the " +
                        ops.size() + " good records before it");
                }
                final Path aside = directory.resolve("journal.log.damaged-" + System.currentTimeMillis());
                Files.move(journalPath, aside);
                System.err.println("edgeplane: warning: " + journalPath + ": " + damage + "; moved to " + aside +
                    ", starting from the " + ops.size() + " good records before it");
            }
        }
        sequence = last;
        return new Recovered(snapshot, ops, last);
    }

    /** Read what is persisted, refusing damaged state ({@link #recover(boolean)} without salvage). */
    public Recovered recover() throws IOException
    {
        return recover(false);
    }

    /** True when a whole record with a good checksum starts anywhere at or after {@code from}. */
    private static boolean validRecordAfter(final ByteBuffer data, final int from)
    {
        final CRC32C check = new CRC32C();
        for (int p = from; p + 8 < data.limit(); p++)
        {
            final int length = data.getInt(p);
            if (length > 0 && length <= MAX_RECORD && p + 8L + length <= data.limit())
            {
                check.reset();
                check.update(data.array(), p + 8, length);
                if ((int)check.getValue() == data.getInt(p + 4))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean allZero(final ByteBuffer data, final int from)
    {
        for (int i = from; i < data.limit(); i++)
        {
            if (data.get(i) != 0)
            {
                return false;
            }
        }
        return true;
    }

    /** Start journaling after recovery: the state given becomes the snapshot and the journal starts empty. */
    public void open(final ObjectNode state) throws IOException
    {
        writeSnapshot(state);
        journal = FileChannel.open(journalPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        restrict(journalPath, FILE_MODE);
        journal.truncate(0);
        journal.force(true);
        journalEnd = 0;
    }

    /**
     * Append one op durably. On return the op is on disk. When the append fails (a full disk, an I/O error) the
     * journal is cut back to its last good record before this returns, so a later append never lands behind a torn
     * one; if even that fails, the store refuses appends until a later one manages to repair it first.
     *
     * @return true when the caller should {@link #compact} (the journal is long).
     */
    public boolean append(final ObjectNode op) throws IOException
    {
        repairIfNeeded();
        op.put("seq", sequence + 1);
        final byte[] record = mapper.writeValueAsBytes(op);
        final CRC32C crc = new CRC32C();
        crc.update(record);
        final ByteBuffer buffer = ByteBuffer.allocate(8 + record.length);
        buffer.putInt(record.length).putInt((int)crc.getValue()).put(record).flip();
        try
        {
            long at = journalEnd;
            while (buffer.hasRemaining())
            {
                at += journal.write(buffer, at);
            }
            journal.force(false);
        }
        catch (final IOException ex)
        {
            needsRepair = true;
            repairIfNeeded();
            throw ex;
        }
        journalEnd += 8 + record.length;
        sequence++;
        journalRecords++;
        return journalRecords >= compactAfter;
    }

    private void repairIfNeeded() throws IOException
    {
        if (!needsRepair)
        {
            return;
        }
        try
        {
            journal.truncate(journalEnd);
            journal.force(true);
            needsRepair = false;
        }
        catch (final IOException ex)
        {
            throw new IOException("the journal could not be cut back to its last good record (" + ex.getMessage() +
                "); changes are refused until it can", ex);
        }
    }

    /**
     * Rewrite the whole state as a snapshot and restart the journal. A failure here loses nothing: every change is
     * in the journal already, the temp file is removed, and the next compaction tries again.
     */
    public void compact(final ObjectNode state) throws IOException
    {
        writeSnapshot(state);
        journal.truncate(0);
        journal.force(true);
        journalEnd = 0;
        journalRecords = 0;
    }

    private void writeSnapshot(final ObjectNode state) throws IOException
    {
        state.put("sequence", sequence);
        final Path temp = directory.resolve(TEMP_NAME);
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
        catch (final IOException ex)
        {
            Files.deleteIfExists(temp);
            throw ex;
        }
        try
        {
            Files.move(temp, snapshotPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final AtomicMoveNotSupportedException ex)
        {
            Files.deleteIfExists(temp);
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
