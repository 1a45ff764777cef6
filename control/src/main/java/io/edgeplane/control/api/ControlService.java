package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import io.edgeplane.control.state.StateStore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    /** Keys (their JSON text) of the records learned from Kubernetes, per resource: not journaled, not saved. */
    private final Map<String, Set<String>> learned = new HashMap<>();
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
        final R record = handler.canonical(bind(withoutReadOnly(handler, body), handler.recordType()));
        final ResourceHandler.Change change = handler.add(record);
        persist(handler.addOp(), Json.STRICT.valueToTree(record), change.undo());
        final Set<String> learnedKeys = learned.get(handler.name());
        if (learnedKeys != null)
        {
            // The operator's record replaces a learned one: it is the operator's from now on (and journaled).
            learnedKeys.remove(keyText(handler, record));
        }
        return change;
    }

    /** The body without the fields GET adds to the record ({@link ResourceHandler#readOnlyFields}). */
    private static JsonNode withoutReadOnly(final ResourceHandler<?, ?> handler, final JsonNode body)
    {
        if (body == null || !body.isObject() || handler.readOnlyFields().isEmpty())
        {
            return body;
        }
        final ObjectNode copy = ((ObjectNode)body).deepCopy();
        copy.remove(handler.readOnlyFields());
        return copy;
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
        if (learned.getOrDefault(handler.name(), Set.of()).contains(Json.STRICT.valueToTree(key).toString()))
        {
            throw new ApiException(409, null, handler.name() + " " + Json.STRICT.valueToTree(key) + " was learned " +
                "from Kubernetes; delete it there (or replace it with a record of your own)");
        }
        final ResourceHandler.Change change = handler.remove(key);
        persist(handler.removeOp(), Json.STRICT.valueToTree(key), change.undo());
        return change.answer();
    }

    private static <R, K> String keyText(final ResourceHandler<R, K> handler, final R record)
    {
        return Json.STRICT.valueToTree(handler.keyOf(record)).toString();
    }

    /**
     * Apply records learned from Kubernetes (adds or replacements) and drop learned ones, as one change (all or
     * nothing), through the resource's own validation; not journaled and not in the snapshot (the API server is
     * their source, relisted at every start). A record whose key an operator's record holds (config file, journal
     * or API) is refused with a 409: the operator's wins. A removal of a key that is not (or no longer) learned
     * does nothing.
     */
    public synchronized void learn(final String name, final List<JsonNode> records, final List<JsonNode> removals)
        throws ApiException
    {
        learnTyped(handler(name), records, removals);
    }

    private <R, K> void learnTyped(final ResourceHandler<R, K> handler, final List<JsonNode> records,
        final List<JsonNode> removals) throws ApiException
    {
        final Set<String> mine = learned.computeIfAbsent(handler.name(), k -> new HashSet<>());
        final List<K> keys = new ArrayList<>();
        final List<String> removedKeys = new ArrayList<>();
        for (final JsonNode removal : removals)
        {
            final K key = bind(removal, handler.keyType());
            final String text = Json.STRICT.valueToTree(key).toString();
            if (mine.contains(text))
            {
                keys.add(key);
                removedKeys.add(text);
            }
        }
        final List<R> typed = new ArrayList<>();
        final List<String> addedKeys = new ArrayList<>();
        Set<String> operators = null;
        for (final JsonNode json : records)
        {
            final R record = bind(json, handler.recordType());
            final String text = keyText(handler, record);
            if (!mine.contains(text))
            {
                if (operators == null)
                {
                    operators = new HashSet<>();
                    for (final Object existing : handler.list())
                    {
                        @SuppressWarnings("unchecked") final String key = keyText(handler, (R)existing);
                        if (!mine.contains(key))
                        {
                            operators.add(key);
                        }
                    }
                }
                if (operators.contains(text))
                {
                    throw new ApiException(409, null, handler.name() + " " + text + " is configured by the " +
                        "operator (config file or API), which wins over Kubernetes");
                }
            }
            typed.add(record);
            addedKeys.add(text);
        }
        if (typed.isEmpty() && keys.isEmpty())
        {
            return;
        }
        handler.addAll(typed, keys);
        mine.removeAll(removedKeys);
        mine.addAll(addedKeys);
    }

    /** How many records of a resource are learned (from Kubernetes) rather than configured. */
    public synchronized int learnedCount(final String name)
    {
        return learned.getOrDefault(name, Set.of()).size();
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
            final List<?> records = configured(handler);
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

    /** A resource's records without the learned ones (those come back from Kubernetes, not from the state). */
    private <R, K> List<?> configured(final ResourceHandler<R, K> handler)
    {
        final Set<String> mine = learned.get(handler.name());
        if (mine == null || mine.isEmpty())
        {
            return handler.list();
        }
        final List<Object> out = new ArrayList<>();
        for (final Object record : handler.list())
        {
            @SuppressWarnings("unchecked") final R typed = (R)record;
            if (!mine.contains(keyText(handler, typed)))
            {
                out.add(record);
            }
        }
        return out;
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
