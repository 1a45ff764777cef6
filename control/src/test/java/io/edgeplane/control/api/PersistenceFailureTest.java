package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.Json;
import io.edgeplane.config.RouteConfig;
import io.edgeplane.control.resource.NeighborResource;
import io.edgeplane.control.resource.RouteResource;
import io.edgeplane.control.state.StateStore;
import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.port.DropSink;
import io.edgeplane.port.PortTable;
import io.edgeplane.route.FibTables;
import io.edgeplane.stage.Dataplane;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every "acknowledged" and "not applied" answer holds when the disk fails: a full disk in the middle of an append
 * (a small tmpfs, root), a failed compaction, a flipped byte in the journal, a damaged snapshot, a persist that fails
 * after a route was replaced, and a worker that does not answer a neighbor change.
 */
class PersistenceFailureTest
{
    @TempDir
    Path tmp;

    private static ObjectNodeBuilder tag(final String name)
    {
        return new ObjectNodeBuilder(name);
    }

    /** A tag body. */
    private record ObjectNodeBuilder(String name)
    {
        JsonNode json()
        {
            return Json.STRICT.createObjectNode().put("name", name).put("value", "v".repeat(40));
        }
    }

    private static ControlService control(final ResourceRegistryTest.TagResource tags, final StateStore store)
        throws Exception
    {
        final StateStore.Recovered recovered = store.recover();
        final ControlService control = new ControlService(List.of(tags), store, 0);
        control.restore(recovered.snapshot(), recovered.ops());
        store.open(control.runningConfig());
        return control;
    }

    private static List<String> restartedTags(final Path state) throws Exception
    {
        final ResourceRegistryTest.TagResource tags = new ResourceRegistryTest.TagResource();
        try (StateStore store = new StateStore(state))
        {
            control(tags, store);
        }
        return tags.list().stream().map(ResourceRegistryTest.Tag::name).toList();
    }

    private static int run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return process.exitValue();
    }

    @Test
    void shouldCutATornAppendBackOnAFullDiskSoLaterAcknowledgedChangesSurvive() throws Exception
    {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
            "mounting a small tmpfs needs root (CI runs this as root)");
        final Path mount = Files.createDirectories(tmp.resolve("small"));
        assertEquals(0, run("mount", "-t", "tmpfs", "-o", "size=64k", "edgeplane-test", mount.toString()));
        try
        {
            final Path state = mount.resolve("state");
            final List<String> acknowledged = new ArrayList<>();
            final List<String> refused = new ArrayList<>();
            final ResourceRegistryTest.TagResource tags = new ResourceRegistryTest.TagResource();
            try (StateStore store = new StateStore(state, 1_000_000))
            {
                final ControlService control = control(tags, store);
                // Some changes first, so the journal's last page is partly used: the append that fills it is
                // written in part (a short write), then fails.
                for (int i = 0; i < 5; i++)
                {
                    control.add("tags", tag("before-" + i).json());
                    acknowledged.add("before-" + i);
                }
                final long journalBefore = Files.size(state.resolve("journal.log"));
                // Fill the disk, then keep changing until appends fail.
                final Path filler = mount.resolve("filler");
                try (OutputStream out = Files.newOutputStream(filler))
                {
                    final byte[] block = new byte[512];
                    for (int i = 0; i < 1024; i++)
                    {
                        out.write(block);
                        out.flush();
                    }
                }
                catch (final IOException full)
                {
                    // The disk is full.
                }
                for (int i = 0; i < 200 && refused.size() < 5; i++)
                {
                    final String name = "full-" + i;
                    try
                    {
                        control.add("tags", tag(name).json());
                        acknowledged.add(name);
                    }
                    catch (final ApiException ex)
                    {
                        assertEquals(500, ex.status());
                        assertTrue(ex.getMessage().contains("not applied"), ex.getMessage());
                        refused.add(name);
                    }
                }
                assertFalse(refused.isEmpty(), "the disk filled up");
                assertTrue(Files.size(state.resolve("journal.log")) > journalBefore, "appends went on until full");
                assertEquals(acknowledged, tags.list().stream().map(ResourceRegistryTest.Tag::name).toList(),
                    "refused changes were undone");
                // Space comes back: changes are acknowledged again, behind the last good record.
                Files.delete(filler);
                for (int i = 0; i < 20; i++)
                {
                    control.add("tags", tag("after-" + i).json());
                    acknowledged.add("after-" + i);
                }
            }
            assertEquals(acknowledged, restartedTags(state), "a restart shows exactly what was acknowledged");
        }
        finally
        {
            run("umount", mount.toString());
        }
    }

    @Test
    void shouldAcknowledgeAChangeWhoseCompactionFailedAndKeepIt() throws Exception
    {
        final Path state = tmp.resolve("state");
        final ResourceRegistryTest.TagResource tags = new ResourceRegistryTest.TagResource();
        try (StateStore store = new StateStore(state, 1))
        {
            final ControlService control = control(tags, store);
            // The snapshot's temp file cannot be created: compaction after the next append fails.
            Files.createDirectories(state.resolve("state.json.tmp").resolve("blocker"));
            final ResourceHandler.Change change = control.add("tags", tag("kept").json());
            assertFalse(change.replaced());
            assertEquals(1, control.compactionFailures());
            Files.delete(state.resolve("state.json.tmp").resolve("blocker"));
            Files.delete(state.resolve("state.json.tmp"));
            control.add("tags", tag("next").json());
        }
        assertEquals(List.of("kept", "next"), restartedTags(state));
    }

    @Test
    void shouldRemoveALeftoverTempFileAndRefuseAnEmptyOrNonObjectSnapshot() throws Exception
    {
        final Path state = tmp.resolve("state");
        Files.createDirectories(state);
        Files.write(state.resolve("state.json.tmp"), new byte[1 << 20]);
        try (StateStore store = new StateStore(state))
        {
            store.recover();
        }
        assertFalse(Files.exists(state.resolve("state.json.tmp")));
        for (final String content : new String[] {"", "[1, 2]", "{\"routes\": "})
        {
            Files.writeString(state.resolve("state.json"), content);
            try (StateStore store = new StateStore(state))
            {
                final StateStore.CorruptStateException ex = assertThrows(StateStore.CorruptStateException.class,
                    store::recover);
                assertTrue(ex.getMessage().contains("state.json"), ex.getMessage());
                assertEquals(1, ex.getMessage().lines().count(), ex.getMessage());
            }
        }
    }

    @Test
    void shouldRefuseAJournalDamagedInTheMiddleAndSalvageOnlyWhenAsked() throws Exception
    {
        final Path state = tmp.resolve("state");
        final ResourceRegistryTest.TagResource tags = new ResourceRegistryTest.TagResource();
        final StateStore store = new StateStore(state);
        final ControlService control = control(tags, store);
        for (int i = 0; i < 10; i++)
        {
            control.add("tags", tag("t" + i).json());
        }
        store.close(); // a crash: the journal is not compacted
        final Path journal = state.resolve("journal.log");
        final byte[] bytes = Files.readAllBytes(journal);
        final int fifth = recordOffset(bytes, 4);
        bytes[fifth + 8 + 10] ^= 0x20;
        Files.write(journal, bytes);

        try (StateStore again = new StateStore(state))
        {
            final StateStore.CorruptStateException ex = assertThrows(StateStore.CorruptStateException.class,
                again::recover);
            assertTrue(ex.getMessage().contains("record 5") && ex.getMessage().contains("--salvage-journal"),
                ex.getMessage());
        }
        assertEquals(bytes.length, Files.size(journal), "the evidence is left as it was");
        try (StateStore salvaged = new StateStore(state))
        {
            assertEquals(4, salvaged.recover(true).ops().size());
        }
        try (var files = Files.list(state))
        {
            assertEquals(1, files.filter(p -> p.getFileName().toString().startsWith("journal.log.damaged-"))
                .count());
        }
    }

    @Test
    void shouldIgnoreOnlyATornLastAppend() throws Exception
    {
        final Path state = tmp.resolve("state");
        final StateStore store = new StateStore(state);
        final ControlService control = control(new ResourceRegistryTest.TagResource(), store);
        for (int i = 0; i < 3; i++)
        {
            control.add("tags", tag("t" + i).json());
        }
        store.close();
        final Path journal = state.resolve("journal.log");
        final byte[] bytes = Files.readAllBytes(journal);
        Files.write(journal, java.util.Arrays.copyOf(bytes, bytes.length - 7));
        assertEquals(List.of("t0", "t1"), restartedTags(state));
    }

    private static int recordOffset(final byte[] journal, final int index)
    {
        final ByteBuffer data = ByteBuffer.wrap(journal);
        for (int i = 0; i < index; i++)
        {
            data.position(data.position() + 8 + data.getInt(data.position()));
        }
        return data.position();
    }

    private static final String CONFIG = """
        { "ports": [
          { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24" },
          { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24" } ] }
        """;

    @Test
    void shouldPutAReplacedRouteBackWhenItsPersistFails() throws Exception
    {
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final Dataplane dataplane = new Dataplane(config, new PacketPool(64), (port, pool, h) -> { },
            DropSink.NONE);
        final PortTable ports = dataplane.ports();
        final StateStore store = new StateStore(tmp.resolve("state"));
        final ControlService control = new ControlService(List.of(new RouteResource(ports, dataplane.routes())),
            store, 0);
        store.recover();
        store.open(control.runningConfig());
        control.add("routes", Json.tree("{\"interface\":\"Port3\",\"prefix\":\"192.168.20.0/24\"," +
            "\"nextHop\":\"10.3.0.9\",\"metric\":5}"));
        store.close();
        final ApiException failed = assertThrows(ApiException.class, () -> control.add("routes", Json.tree(
            "{\"interface\":\"Port3\",\"prefix\":\"192.168.20.0/24\",\"nextHop\":\"10.3.0.8\",\"metric\":50}")));
        assertEquals(500, failed.status());
        final List<RouteConfig> routes = dataplane.routes().routes(-1);
        assertEquals(1, routes.size());
        assertEquals(ip("10.3.0.9"), routes.get(0).nextHop());
        assertEquals(5, routes.get(0).metric());
        final FibTables fib = dataplane.routes().tables();
        assertEquals(ip("10.3.0.9"), fib.adjacencyNextHop(fib.adjacency(fib.lookup(ip("192.168.20.7")), 0)));
    }

    @Test
    void shouldKeepNoNeighborTheWorkerDidNotConfirm() throws Exception
    {
        final DataplaneConfig config = ConfigLoader.parse(CONFIG);
        final Dataplane dataplane = new Dataplane(config, new PacketPool(64), (port, pool, h) -> { },
            DropSink.NONE);
        final WorkerProxy worker = new WorkerProxy(dataplane);
        worker.workerStarted(); // ... but it never drains: a stuck worker
        final NeighborResource neighbors = new NeighborResource(dataplane.ports(), worker, List.of());
        final ControlService control = new ControlService(List.of(neighbors), null, 0);
        assertThrows(IllegalStateException.class, () -> control.add("neighbors",
            Json.tree("{\"interface\":\"Port3\",\"ip\":\"10.3.0.7\",\"mac\":\"02:00:00:00:03:07\"}")));
        assertEquals(0, neighbors.list().size());
        assertEquals("[]", Json.STRICT.valueToTree(control.runningConfig().get("neighbors")).toString());
    }
}
