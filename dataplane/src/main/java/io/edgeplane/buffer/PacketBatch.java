package io.edgeplane.buffer;

/**
 * A vector of packet handles processed together by one stage (VPP's "frame"). Reused, never reallocated.
 */
public final class PacketBatch
{
    public static final int VECTOR_SIZE = 256;

    private final int[] handles;
    private int count;

    public PacketBatch()
    {
        this(VECTOR_SIZE);
    }

    public PacketBatch(final int capacity)
    {
        handles = new int[capacity];
    }

    public int count()
    {
        return count;
    }

    public int handle(final int index)
    {
        return handles[index];
    }

    public boolean isFull()
    {
        return count == handles.length;
    }

    /**
     * @return false when the batch is full and the handle was not added.
     */
    public boolean add(final int handle)
    {
        if (count == handles.length)
        {
            return false;
        }
        handles[count++] = handle;
        return true;
    }

    public void clear()
    {
        count = 0;
    }
}
