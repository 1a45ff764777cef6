package io.edgeplane.control.api;

/** A refused API request: the HTTP status, the offending field (or null) and a one-line reason. */
public final class ApiException extends Exception
{
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String field;

    public ApiException(final int status, final String field, final String message)
    {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    public int status()
    {
        return status;
    }

    public String field()
    {
        return field;
    }

    public static ApiException badRequest(final String field, final String message)
    {
        return new ApiException(400, field, message);
    }
}
