package io.edgeplane.control.gateway;

/** The gateway cannot start (device, privileges, state); the message is one line for the user. */
public final class GatewayException extends Exception
{
    private static final long serialVersionUID = 1L;

    public GatewayException(final String message)
    {
        super(message, null, false, false);
    }
}
