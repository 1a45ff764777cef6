package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * One kind of run-time resource (routes, neighbors, ports, ...), plugged into {@link ControlService}, which runs
 * every change as validate → apply → persist → acknowledge and undoes the apply when the persist fails. A handler
 * validates and applies (capturing its undo before it applies), lists, and restores from a snapshot; the API paths,
 * the journal ops and the snapshot section all follow from its names. A new resource is one handler (plus its CLI
 * verb).
 *
 * @param <R> the record (one JSON shape: config file, API body and answer, snapshot, journal op).
 * @param <K> the key that removes one record.
 */
public interface ResourceHandler<R, K>
{
    /** Plural name: the API path {@code /v1/<name>} and the config and snapshot section. */
    String name();

    /**
     * True for a resource that is one object, not a list ({@code nat}): GET answers the object, PUT sets it, and the
     * config and snapshot section is the object itself.
     */
    default boolean singleton()
    {
        return false;
    }

    /** {@code GET /v1/<name>/<part>}: a view below the resource (e.g. {@code nat/sessions}); 404 by default. */
    default JsonNode get(final String part, final Map<String, String> query) throws ApiException
    {
        throw new ApiException(404, null, "no such resource " + name() + "/" + part);
    }

    /** {@code DELETE /v1/<name>/<part>} (e.g. flush {@code nat/sessions}); 404 by default. */
    default JsonNode delete(final String part, final Map<String, String> query) throws ApiException
    {
        throw new ApiException(404, null, "no such resource " + name() + "/" + part);
    }

    /**
     * {@code PUT /v1/<name>/<id>/<part>}: the whole record that results from setting {@code part} of record
     * {@code id} (e.g. a service's backends); it is then added like a POST, and journaled as one. 404 by default.
     */
    default JsonNode merge(final String id, final String part, final JsonNode body) throws ApiException
    {
        throw new ApiException(404, null, "no such resource " + name() + "/" + id + "/" + part);
    }

    /** Config file sections this resource depends on but does not change (kept in the running config). */
    default Map<String, Object> fixedSections()
    {
        return Map.of();
    }

    /** Journal op of an add (or set). */
    String addOp();

    /** Earlier names of the add op, still replayed from old journals. */
    default List<String> aliases()
    {
        return List.of();
    }

    /** Journal op of a removal, or null when records cannot be removed. */
    String removeOp();

    Class<R> recordType();

    Class<K> keyType();

    /**
     * The record as it is applied and journaled, before {@link #add}: a resource may reduce a whole record to the
     * change it stands for (a port's full record, as GET shows it, to its administrative state), refusing with a
     * 4xx what cannot change. The record itself by default.
     */
    default R canonical(final R record) throws ApiException
    {
        return record;
    }

    /** Validate (a 4xx naming the field; nothing changes) and apply make-before-break. */
    Change add(R record) throws ApiException;

    /** Remove by key (404 when absent). */
    Change remove(K key) throws ApiException;

    /** The key of a record (for resources whose records can also be learned, e.g. from Kubernetes). */
    default K keyOf(final R record)
    {
        throw new UnsupportedOperationException(name() + " records are not learned");
    }

    /**
     * Apply several adds and removals as one change: all of them or, on the first refusal, none (the undo of the
     * ones applied runs before the exception leaves). A resource whose every change rebuilds a table (services)
     * overrides this to rebuild once.
     */
    default Change addAll(final List<R> records, final List<K> removals) throws ApiException
    {
        final java.util.ArrayDeque<Runnable> undos = new java.util.ArrayDeque<>();
        try
        {
            for (final K key : removals)
            {
                undos.push(remove(key).undo());
            }
            for (final R record : records)
            {
                undos.push(add(record).undo());
            }
        }
        catch (final ApiException | RuntimeException ex)
        {
            undos.forEach(Runnable::run);
            throw ex;
        }
        return new Change(null, false, () -> undos.forEach(Runnable::run));
    }

    /** The records as they are now, for the snapshot (each serialises to the config file's shape). */
    List<?> list();

    /**
     * Fields GET shows beyond the record (what a setting resolved to, counters, state). A body that carries them
     * back (GET, edit, PUT) is accepted with them dropped before binding, as Kubernetes drops a status on a spec
     * update; any other unknown field is still refused.
     */
    default java.util.Set<String> readOnlyFields()
    {
        return java.util.Set.of();
    }

    /** What GET lists (filtered by exact field values): the records, or richer views of them (with counters). */
    default List<?> view()
    {
        return list();
    }

    /** Replace the state with a snapshot's section (at start, before traffic). */
    void restore(JsonNode section) throws ApiException;

    /** What a change did: the answer for the client, whether it replaced a record, and how to take it back. */
    record Change(Object answer, boolean replaced, Runnable undo)
    {
    }

    /** Keep the records whose JSON fields equal every query parameter given (GET filters). */
    static boolean matches(final JsonNode record, final Map<String, String> query)
    {
        for (final Map.Entry<String, String> entry : query.entrySet())
        {
            final JsonNode value = record.get(entry.getKey());
            if (value == null || !value.asText().equals(entry.getValue()))
            {
                return false;
            }
        }
        return true;
    }
}
