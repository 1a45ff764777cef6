package io.edgeplane.config;

/**
 * A config (file or API request) that cannot be accepted; the message names the field path and the reason
 * ({@code routes[2].nextHop: ...}), and {@link #field()} names the field alone for API error bodies.
 */
public final class ConfigException extends Exception
{
    private static final long serialVersionUID = 1L;

    private final String field;

    public ConfigException(final String message)
    {
        this(null, message);
    }

    /** @param field the field (last path element), or null. */
    public ConfigException(final String field, final String message)
    {
        super(message);
        this.field = field;
    }

    public String field()
    {
        return field;
    }

    /** The same error under a path prefix ({@code routes[2].}). */
    public ConfigException under(final String prefix)
    {
        return new ConfigException(field, prefix + getMessage());
    }
}
