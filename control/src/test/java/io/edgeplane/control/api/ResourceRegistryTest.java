package io.edgeplane.control.api;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import io.edgeplane.control.state.StateStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A new resource is one handler: a toy "tags" resource registered with the {@link ControlService} gets the API
 * verbs, strict binding with field errors, journaling before the answer, the undo when persisting fails, the
 * running config section and the restore at start, with no other code.
 */
class ResourceRegistryTest
{
    /** The toy record: {@code {"name", "value"}}. */
    public record Tag(String name, String value)
    {
        @JsonCreator
        static Tag fromJson(@JsonProperty("name") final String name, @JsonProperty("value") final String value)
        {
            if (Json.required(name, "name").isEmpty())
            {
                throw new IllegalArgumentException("name: must not be empty");
            }
            return new Tag(name, Json.required(value, "value"));
        }

        @JsonValue
        Map<String, Object> json()
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", name);
            json.put("value", value);
            return json;
        }
    }

    record TagKey(String name)
    {
        @JsonCreator
        static TagKey fromJson(@JsonProperty("name") final String name)
        {
            return new TagKey(Json.required(name, "name"));
        }

        @JsonValue
        Map<String, Object> json()
        {
            return Map.of("name", name);
        }
    }

    public static final class TagResource implements ResourceHandler<Tag, TagKey>
    {
        final Map<String, Tag> tags = new LinkedHashMap<>();

        @Override
        public String name()
        {
            return "tags";
        }

        @Override
        public String addOp()
        {
            return "tag-add";
        }

        @Override
        public String removeOp()
        {
            return "tag-remove";
        }

        @Override
        public Class<Tag> recordType()
        {
            return Tag.class;
        }

        @Override
        public Class<TagKey> keyType()
        {
            return TagKey.class;
        }

        @Override
        public Change add(final Tag tag)
        {
            final Tag previous = tags.put(tag.name(), tag);
            return new Change(tag, previous != null, () ->
            {
                if (previous == null)
                {
                    tags.remove(tag.name());
                }
                else
                {
                    tags.put(tag.name(), previous);
                }
            });
        }

        @Override
        public Change remove(final TagKey key) throws ApiException
        {
            final Tag removed = tags.remove(key.name());
            if (removed == null)
            {
                throw new ApiException(404, "name", "no tag " + key.name());
            }
            return new Change(Map.of("removed", key.name()), true, () -> tags.put(removed.name(), removed));
        }

        @Override
        public List<Tag> list()
        {
            return new ArrayList<>(tags.values());
        }

        @Override
        public void restore(final JsonNode section) throws ApiException
        {
            tags.clear();
            try
            {
                for (final Tag tag : Json.bind(section, Tag[].class))
                {
                    tags.put(tag.name(), tag);
                }
            }
            catch (final ConfigException ex)
            {
                throw ApiException.badRequest(ex.field(), ex.getMessage());
            }
        }
    }

    @TempDir
    Path state;

    private final HttpClient http = HttpClient.newHttpClient();
    private StateStore store;
    private ApiServer api;

    @AfterEach
    void tearDown() throws Exception
    {
        if (api != null)
        {
            api.close();
        }
        if (store != null)
        {
            store.close();
        }
    }

    private TagResource start() throws Exception
    {
        final TagResource tags = new TagResource();
        store = new StateStore(state);
        final StateStore.Recovered recovered = store.recover();
        final ControlService control = new ControlService(List.of(tags), store, 0);
        control.restore(recovered.snapshot(), recovered.ops());
        store.open(control.runningConfig());
        api = new ApiServer(new InetSocketAddress("127.0.0.1", 0), null, control, null);
        return tags;
    }

    private HttpResponse<String> call(final String method, final String path, final String body) throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() :
                HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeJournalAndRestoreANewResourceThroughItsHandlerAlone() throws Exception
    {
        final TagResource tags = start();
        assertEquals(201, call("POST", "/v1/tags", "{\"name\": \"site\", \"value\": \"edge-1\"}").statusCode());
        assertEquals(201, call("POST", "/v1/tags", "{\"name\": \"rack\", \"value\": \"r7\"}").statusCode());
        assertEquals(200, call("POST", "/v1/tags", "{\"name\": \"rack\", \"value\": \"r8\"}").statusCode());
        assertEquals(201, call("POST", "/v1/tags", "{\"name\": \"gone\", \"value\": \"x\"}").statusCode());
        assertEquals(200, call("DELETE", "/v1/tags?name=gone", null).statusCode());
        assertEquals(404, call("DELETE", "/v1/tags?name=gone", null).statusCode());

        final HttpResponse<String> wrongType = call("POST", "/v1/tags", "{\"name\": \"n\", \"value\": 1}");
        assertEquals(400, wrongType.statusCode());
        assertEquals("value", Json.STRICT.readTree(wrongType.body()).get("field").asText());
        final HttpResponse<String> empty = call("POST", "/v1/tags", "{\"name\": \"\", \"value\": \"v\"}");
        assertEquals("name: must not be empty", Json.STRICT.readTree(empty.body()).get("error").asText());
        assertEquals(400, call("POST", "/v1/tags", "{\"name\": \"n\", \"value\": \"v\", \"x\": 1}").statusCode());
        assertEquals(400, call("POST", "/v1/tags", "{\"name\": \"n\", \"value\": \"v\"} {}").statusCode());

        final JsonNode rack = Json.STRICT.readTree(call("GET", "/v1/tags?name=rack", null).body());
        assertEquals("[{\"name\":\"rack\",\"value\":\"r8\"}]", rack.toString());
        assertEquals(2, Json.STRICT.readTree(call("GET", "/v1/config", null).body()).get("tags").size());

        // Persisting fails (the journal is closed under it): the client hears "not applied" and nothing changed.
        store.close();
        final HttpResponse<String> failed = call("POST", "/v1/tags", "{\"name\": \"lost\", \"value\": \"v\"}");
        assertEquals(500, failed.statusCode());
        assertTrue(failed.body().contains("not applied"), failed.body());
        assertEquals(List.of("site", "rack"), tags.list().stream().map(Tag::name).toList());

        // A restart (journal replay through the handler) gives back exactly what was acknowledged.
        api.close();
        final TagResource restored = start();
        assertEquals(List.of(new Tag("site", "edge-1"), new Tag("rack", "r8")), restored.list());
    }
}
