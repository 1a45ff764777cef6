package io.edgeplane.config;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.stream.Collectors;

/**
 * The one strict JSON binding of config files, API bodies, snapshots and journal ops: unknown fields, duplicate
 * keys, trailing content after the value, and scalars of the wrong type (no "100" or 100.5 for 100, no 1 for "1") are
 * errors, and every error names its field path ({@code routes[2].nextHop: ...}).
 */
public final class Json
{
    public static final ObjectMapper STRICT = JsonMapper.builder()
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        // No 1.5 for an integer (it was truncated to 1 without a word).
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        // A null inside an array ("ports": [null]) is an error of that element, not a record with every field absent.
        .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
        .withCoercionConfig(LogicalType.Textual, config -> config
            .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
        .build();

    private Json()
    {
    }

    /** Parse JSON text into a tree, strictly. */
    public static JsonNode tree(final String text) throws ConfigException
    {
        try
        {
            return STRICT.readTree(text);
        }
        catch (final JsonProcessingException ex)
        {
            throw error(ex);
        }
    }

    /** Bind a tree (an API body, a journal op) to a resource record. */
    public static <T> T bind(final JsonNode node, final Class<T> type) throws ConfigException
    {
        try
        {
            return STRICT.treeToValue(node, type);
        }
        catch (final JsonProcessingException | IllegalArgumentException ex)
        {
            throw ex instanceof JsonProcessingException j ? error(j) : new ConfigException(ex.getMessage());
        }
    }

    /** Bind JSON text to a record. */
    public static <T> T bind(final String text, final Class<T> type) throws ConfigException
    {
        try
        {
            return STRICT.readValue(text, type);
        }
        catch (final JsonProcessingException ex)
        {
            throw error(ex);
        }
    }

    /** A Jackson error as a field path and a reason. */
    public static ConfigException error(final JsonProcessingException ex)
    {
        if (!(ex instanceof JsonMappingException mapping))
        {
            return new ConfigException("not valid JSON: " + ex.getOriginalMessage() + (ex.getLocation() == null ?
                "" : " (line " + ex.getLocation().getLineNr() + ", column " + ex.getLocation().getColumnNr() + ")"));
        }
        final String path = path(mapping);
        final String prefix = path.isEmpty() ? "" : path + ".";
        if (ex instanceof InvalidNullException)
        {
            return new ConfigException(null, path + ": must not be null");
        }
        if (ex instanceof ValueInstantiationException && ex.getCause() != null)
        {
            // Our records' creators throw "field: reason"; the path locates the record.
            final String reason = ex.getCause().getMessage() == null ? "not valid (" +
                ex.getCause().getClass().getSimpleName() + ")" : ex.getCause().getMessage();
            final int colon = reason.indexOf(':');
            final String field = colon > 0 && reason.substring(0, colon).matches("[A-Za-z0-9\\[\\].]+") ?
                reason.substring(0, colon) : null;
            return new ConfigException(field, prefix + reason);
        }
        final String field = mapping.getPath().isEmpty() ? null :
            mapping.getPath().get(mapping.getPath().size() - 1).getFieldName();
        if (ex instanceof UnrecognizedPropertyException unknown)
        {
            final String allowed = unknown.getKnownPropertyIds() == null ? "" : " (allowed: " +
                unknown.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", ")) + ")";
            return new ConfigException(unknown.getPropertyName(), path + ": unknown field" + allowed);
        }
        if (ex.getOriginalMessage() != null && ex.getOriginalMessage().startsWith("Trailing token"))
        {
            return new ConfigException(null, "not valid JSON: content after the JSON value" + (ex.getLocation() ==
                null ? "" : " (line " + ex.getLocation().getLineNr() + ", column " + ex.getLocation().getColumnNr() +
                ")"));
        }
        if (path.isEmpty() && ex instanceof MismatchedInputException)
        {
            return new ConfigException(null, "must be a JSON object");
        }
        if (ex instanceof InvalidFormatException || ex instanceof MismatchedInputException)
        {
            final Class<?> target = ((MismatchedInputException)ex).getTargetType();
            final String expected = target == null ? "another type" : target == String.class ? "a string" :
                target == Integer.class || target == int.class || target == Long.class || target == long.class ?
                "an integer" : target == Boolean.class || target == boolean.class ? "true or false" :
                target.isArray() || java.util.Collection.class.isAssignableFrom(target) ? "an array" :
                "a JSON object";
            return new ConfigException(field, path + ": must be " + expected);
        }
        return new ConfigException(field, path + ": " + ex.getOriginalMessage());
    }

    private static String path(final JsonMappingException ex)
    {
        final StringBuilder out = new StringBuilder();
        for (final JsonMappingException.Reference ref : ex.getPath())
        {
            if (ref.getFieldName() != null)
            {
                if (out.length() > 0)
                {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            }
            else if (ref.getIndex() >= 0)
            {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    /** Used by record creators: a required value. */
    public static <T> T required(final T value, final String field)
    {
        if (value == null)
        {
            throw new IllegalArgumentException(field + ": missing");
        }
        return value;
    }
}
