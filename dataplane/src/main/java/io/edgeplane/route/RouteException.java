package io.edgeplane.route;

/** A route change that was refused; nothing changed. The message names the reason, {@link #cause()} its kind. */
public final class RouteException extends Exception
{
    private static final long serialVersionUID = 1L;

    /** What was wrong, so callers can point at their own field names or choose a status. */
    public enum Cause
    {
        PREFIX, NEXT_HOP, METRIC, INTERFACE, CAPACITY, OTHER
    }

    private final Cause cause;

    public RouteException(final String message)
    {
        this(Cause.OTHER, message);
    }

    public RouteException(final Cause cause, final String message)
    {
        super(message);
        this.cause = cause;
    }

    public Cause cause()
    {
        return cause;
    }
}
