package io.edgeplane.config;

/** A config (file or API request) that cannot be accepted; the message names the field and the reason. */
public final class ConfigException extends Exception
{
    private static final long serialVersionUID = 1L;

    public ConfigException(final String message)
    {
        super(message);
    }
}
