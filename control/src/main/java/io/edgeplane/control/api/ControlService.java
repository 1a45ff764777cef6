package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import io.edgeplane.control.state.StateStore;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every run-time change of the gateway goes through here, whatever the resource: bind the body strictly to the
 * resource's record (a 400 naming the field), let the {@link ResourceHandler} validate and apply it
 * make-before-break (capturing its undo first), persist the op (journal fsync) and only then acknowledge; when the
 * persist fails the undo runs and the client gets a 500 saying nothing was applied. Changes are serialised by this
 * object's monitor; reads need no lock. At start, {@link #restore} applies the snapshot and then the journal ops
 * through the same handlers.
 */
public final class ControlService
{
    private final Map<String, ResourceHandler<?, ?>> handlers = new LinkedHashMap<>();
    private final Map<String, ResourceHandler<?, ?>> byOp = new LinkedHashMap<>();
    private final StateStore store;
    private final int flowHashSeed;
    private boolean replaying;
    private long compactionFailures;

    /**
     * @param store        where changes are persisted, or null for none.
     * @param flowHashSeed kept in the running config.
     */
    public ControlService(final List<ResourceHandler<?, ?>> handlers, final StateStore store, final int flowHashSeed)
    {
        for (final ResourceHandler<?, ?> handler : handlers)
        {
            this.handlers.put(handler.name(), handler);
            byOp.put(handler.addOp(), handler);
            handler.aliases().forEach(alias -> byOp.put(alias, handler));
            if (handler.removeOp() != null)
            {
                byOp.put(handler.removeOp(), handler);
            }
        }
        this.store = store;
        this.flowHashSeed = flowHashSeed;
    }

    /** Compactions that failed (the changes stayed in the journal). */
    public synchronized long compactionFailures()
    {
        return compactionFailures;
    }

    /** True when a resource of that name is registered. */
    public boolean has(final String name)
    {
        return handlers.containsKey(name);
    }

    private ResourceHandler<?, ?> handler(final String name) throws ApiException
    {
        final ResourceHandler<?, ?> handler = handlers.get(name);
        if (handler == null)
        {
            throw new ApiException(404, null, "no such resource " + name);
        }
        return handler;
    }

    /** Add (or set) one record from a request body. */
    public synchronized ResourceHandler.Change add(final String name, final JsonNode body) throws ApiException
    {
        return addTyped(handler(name), body);
    }

    private <R, K> ResourceHandler.Change addTyped(final ResourceHandler<R, K> handler, final JsonNode body)
        throws ApiException
    {
        final R record = bind(body, handler.recordType());
        final ResourceHandler.Change change = handler.add(record);
        persist(handler.addOp(), Json.STRICT.valueToTree(record), change.undo());
        return change;
    }

    /** {@code PUT /v1/<name>/<id>/<part>}: set a part of a record, journaled as the whole record's add. */
    public synchronized ResourceHandler.Change put(final String name, final String id, final String part,
        final JsonNode body) throws ApiException
    {
        final ResourceHandler<?, ?> handler = handler(name);
        return addTyped(handler, handler.merge(id, part, body));
    }

    /** Remove one record named by its key fields (query parameters). */
    public synchronized Object remove(final String name, final Map<String, String> key) throws ApiException
    {
        return removeTyped(handler(name), Json.STRICT.valueToTree(key));
    }

    private <R, K> Object removeTyped(final ResourceHandler<R, K> handler, final JsonNode keyFields)
        throws ApiException
    {
        if (handler.removeOp() == null)
        {
            throw new ApiException(405, null, handler.name() + " cannot be removed");
        }
        final K key = bind(keyFields, handler.keyType());
        final ResourceHandler.Change change = handler.remove(key);
        persist(handler.removeOp(), Json.STRICT.valueToTree(key), change.undo());
        return change.answer();
    }

    /** A singleton resource's object. */
    public synchronized JsonNode single(final String name) throws ApiException
    {
        final List<?> view = handler(name).view();
        return view.isEmpty() ? Json.STRICT.createObjectNode() : Json.STRICT.valueToTree(view.get(0));
    }

    /** True for a resource that is one object ({@link ResourceHandler#singleton}). */
    public boolean singleton(final String name) throws ApiException
    {
        return handler(name).singleton();
    }

    /** {@code GET /v1/<name>/<part>}. */
    public JsonNode get(final String name, final String part, final Map<String, String> query) throws ApiException
    {
        return handler(name).get(part, query);
    }

    /** {@code DELETE /v1/<name>/<part>}. */
    public JsonNode delete(final String name, final String part, final Map<String, String> query) throws ApiException
    {
        return handler(name).delete(part, query);
    }

    /** The records of a resource whose fields equal the filter's values. */
    public ArrayNode list(final String name, final Map<String, String> filter) throws ApiException
    {
        final ArrayNode out = Json.STRICT.createArrayNode();
        for (final Object record : handler(name).view())
        {
            final JsonNode json = Json.STRICT.valueToTree(record);
            if (ResourceHandler.matches(json, filter))
            {
                out.add(json);
            }
        }
        return out;
    }

    private static <T> T bind(final JsonNode body, final Class<T> type) throws ApiException
    {
        if (body == null || !body.isObject())
        {
            throw ApiException.badRequest(null, "request body must be a JSON object");
        }
        try
        {
            return Json.bind(body, type);
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage());
        }
    }

    /** The running configuration in the config file's own format (it can be saved and loaded as a config). */
    public synchronized ObjectNode runningConfig()
    {
        final ObjectNode root = Json.STRICT.createObjectNode();
        for (final ResourceHandler<?, ?> handler : handlers.values())
        {
            final List<?> records = handler.list();
            if (!handler.singleton())
            {
                root.set(handler.name(), Json.STRICT.valueToTree(records));
            }
            else if (!records.isEmpty())
            {
                root.set(handler.name(), Json.STRICT.valueToTree(records.get(0)));
            }
            handler.fixedSections().forEach((section, value) -> root.set(section, Json.STRICT.valueToTree(value)));
        }
        root.put("flowHashSeed", flowHashSeed);
        return root;
    }

    private void persist(final String op, final JsonNode record, final Runnable undo) throws ApiException
    {
        if (store == null || replaying)
        {
            return;
        }
        final ObjectNode entry = Json.STRICT.createObjectNode().put("op", op);
        entry.setAll((ObjectNode)record);
        final boolean compact;
        try
        {
            compact = store.append(entry);
        }
        catch (final IOException ex)
        {
            undo.run();
            throw new ApiException(500, null, "could not persist the change (" + ex.getMessage() + "); not applied");
        }
        // The change is durable in the journal from here on: it is acknowledged whatever compaction does.
        if (compact)
        {
            try
            {
                store.compact(runningConfig());
            }
            catch (final IOException ex)
            {
                compactionFailures++;
                System.err.println("edgeplane: warning: could not compact the state (" + ex.getMessage() +
                    "); the journal keeps every change and compaction is tried again");
            }
        }
    }

    /** Apply a persisted snapshot (the running-config format) and journal ops, at start, before the API opens. */
    public synchronized void restore(final JsonNode snapshot, final List<JsonNode> ops) throws ConfigException
    {
        replaying = true;
        try
        {
            if (snapshot != null)
            {
                if (!snapshot.isObject())
                {
                    throw new ConfigException("state.json: not a JSON object");
                }
                for (final ResourceHandler<?, ?> handler : handlers.values())
                {
                    final JsonNode section = snapshot.get(handler.name());
                    if (section != null)
                    {
                        try
                        {
                            handler.restore(section);
                        }
                        catch (final ApiException ex)
                        {
                            throw new ConfigException("persisted " + handler.name() + ": " + ex.getMessage());
                        }
                    }
                }
            }
            for (final JsonNode op : ops)
            {
                replay(op);
            }
        }
        finally
        {
            replaying = false;
        }
    }

    private void replay(final JsonNode op) throws ConfigException
    {
        final String name = op.path("op").asText();
        final ResourceHandler<?, ?> handler = byOp.get(name);
        final String where = "journal op " + op.path("seq").asLong() + " (" + name + "): ";
        if (handler == null)
        {
            throw new ConfigException(where + "unknown op");
        }
        final ObjectNode body = op.deepCopy();
        body.remove("op");
        body.remove("seq");
        try
        {
            if (!name.equals(handler.removeOp()))
            {
                addTyped(handler, body);
            }
            else
            {
                removeTyped(handler, body);
            }
        }
        catch (final ApiException ex)
        {
            // A removal of something already absent (it is in the snapshot too) is not an error.
            if (ex.status() != 404)
            {
                throw new ConfigException(where + ex.getMessage());
            }
        }
    }
}
