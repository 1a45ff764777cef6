package io.edgeplane.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;

import java.io.IOException;

/**
 * Binds a property whose type Jackson then looks at only when a document has it: {@code @JsonDeserialize(using =
 * Lazily.class)}. Jackson introspects every type a record can hold before it binds the first document, and the
 * optional sections of a config (NAT, services) were most of the time a replay spent binding a config without them
 * (README, "Start, once more"). The value is bound as before, by the type's own deserializer, found on first use
 * and cached by the mapper; errors keep their field paths.
 */
final class Lazily extends StdDeserializer<Object> implements ContextualDeserializer
{
    private final JavaType type;

    Lazily()
    {
        this(null);
    }

    private Lazily(final JavaType type)
    {
        super(type == null ? Object.class : type.getRawClass());
        this.type = type;
    }

    @Override
    public JsonDeserializer<?> createContextual(final DeserializationContext context, final BeanProperty property)
    {
        return new Lazily(property.getType());
    }

    @Override
    public Object deserialize(final JsonParser parser, final DeserializationContext context) throws IOException
    {
        return context.readValue(parser, type);
    }
}
