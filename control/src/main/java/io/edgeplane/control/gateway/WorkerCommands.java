package io.edgeplane.control.gateway;

import io.edgeplane.stage.Dataplane;
import org.jctools.queues.MpscArrayQueue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The only way the control plane touches a worker's private state (neighbor table, tracer): a command queued on a
 * bounded multi-producer queue that the worker drains, a few at a time, at the top of its duty cycle.
 */
public final class WorkerCommands
{
    public static final int CAPACITY = 1024;
    public static final int DRAIN_LIMIT = 16;

    private final MpscArrayQueue<Runnable> queue = new MpscArrayQueue<>(CAPACITY);
    private final Dataplane dataplane;
    private volatile boolean workerStarted;

    public WorkerCommands(final Dataplane dataplane)
    {
        this.dataplane = dataplane;
    }

    /** From now on commands go through the queue; before, the caller is the only thread and runs them inline. */
    public void workerStarted()
    {
        workerStarted = true;
    }

    /** Worker side. */
    public int drain()
    {
        return queue.drain(Runnable::run, DRAIN_LIMIT);
    }

    /**
     * Control side: run {@code command} on the worker and wait for its result.
     *
     * @throws IllegalStateException when the queue is full or the worker does not answer within 2 s.
     */
    public <T> T call(final Function<Dataplane, T> command)
    {
        if (!workerStarted)
        {
            return command.apply(dataplane);
        }
        final CompletableFuture<T> result = new CompletableFuture<>();
        final Runnable task = () ->
        {
            try
            {
                result.complete(command.apply(dataplane));
            }
            catch (final RuntimeException ex)
            {
                result.completeExceptionally(ex);
            }
        };
        if (!queue.offer(task))
        {
            throw new IllegalStateException("worker command queue full");
        }
        try
        {
            return result.get(2, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the worker", ex);
        }
        catch (final ExecutionException ex)
        {
            throw new IllegalStateException(ex.getCause().getMessage(), ex.getCause());
        }
        catch (final TimeoutException ex)
        {
            throw new IllegalStateException("worker did not answer within 2 s", ex);
        }
    }
}
