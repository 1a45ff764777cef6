package io.edgeplane.config;

/**
 * A config (file or API request) that cannot be accepted; the message names the field path and the reason
 * ({@code routes[2].nextHop: ...}), and {@link #field()} names the field alone for API error bodies.
 */
public final class ConfigException extends Exception
{
    private static final long serialVersionUID = 1L;
    /** Longer messages are cut in the middle (they start with the field path and end with the reason). */
    static final int MAX_MESSAGE = 1000;
    private static final int KEPT = 300;

    private final String field;

    public ConfigException(final String message)
    {
        this(null, message);
    }

    /** @param field the field (last path element), or null. */
    public ConfigException(final String field, final String message)
    {
        super(readable(message));
        this.field = field;
    }

    /**
     * Messages echo what was given, and a terminal or a log shows them: control characters appear escaped (a
     * backslash, u and four hex digits), and an echo too long to read (a 100,000-character name) is cut in the
     * middle.
     */
    static String readable(final String message)
    {
        if (message == null)
        {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < message.length(); i++)
        {
            final char c = message.charAt(i);
            if (Character.isISOControl(c))
            {
                if (out == null)
                {
                    out = new StringBuilder(message.length() + 16).append(message, 0, i);
                }
                out.append(String.format("\\u%04x", (int)c));
            }
            else if (out != null)
            {
                out.append(c);
            }
        }
        final String text = out == null ? message : out.toString();
        if (text.length() <= MAX_MESSAGE)
        {
            return text;
        }
        return text.substring(0, KEPT) + " … (" + (text.length() - 2 * KEPT) + " characters left out) … " +
            text.substring(text.length() - KEPT);
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
