package io.edgeplane.route;

/** A route change that was refused; nothing changed. The message names the reason. */
public final class RouteException extends Exception
{
    private static final long serialVersionUID = 1L;

    public RouteException(final String message)
    {
        super(message);
    }
}
