package io.edgeplane.control.replay;

/** A trace file that cannot be read; the message is one line meant for the user. */
public final class TraceFileException extends Exception
{
    private static final long serialVersionUID = 1L;

    public TraceFileException(final String message)
    {
        super(message);
    }
}
