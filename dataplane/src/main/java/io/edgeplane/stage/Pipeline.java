package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Runs the packet graph over one received vector to completion: each stage with a non-empty input vector runs
 * once over it, then its packets move to the input vectors of their next stages. Passes repeat until every
 * vector is empty (edges may point back, e.g. a generated ICMP error goes to ip4-lookup again).
 */
public final class Pipeline
{
    /** Room for a full rx vector plus packets the stages generate (ARP requests, ICMP errors). */
    static final int INPUT_CAPACITY = PacketBatch.VECTOR_SIZE * 2;

    private final PacketPool pool;
    private final Stage[] stages;
    private final PacketBatch[] inputs;
    private final AtomicCounter overflow;

    public Pipeline(final PacketPool pool, final DataplaneCounters counters, final Stage... stages)
    {
        this.pool = pool;
        this.stages = new Stage[StageId.COUNT];
        this.inputs = new PacketBatch[StageId.COUNT];
        for (final Stage stage : stages)
        {
            this.stages[stage.id()] = stage;
        }
        for (int i = 0; i < StageId.COUNT; i++)
        {
            if (this.stages[i] == null)
            {
                throw new IllegalArgumentException("no stage for " + StageId.name(i));
            }
            inputs[i] = new PacketBatch(INPUT_CAPACITY);
        }
        this.overflow = counters.drop(DropReason.PIPELINE_OVERFLOW);
    }

    public Stage stage(final int id)
    {
        return stages[id];
    }

    /** Process a received vector (every packet's next is ethernet-input) until all packets left the graph. */
    public void process(final PacketBatch received)
    {
        final PacketBatch first = inputs[StageId.ETHERNET_INPUT];
        for (int i = 0, n = received.count(); i < n; i++)
        {
            enqueue(first, received.handle(i));
        }
        received.clear();
        boolean pending = true;
        while (pending)
        {
            pending = false;
            for (int s = 0; s < StageId.COUNT; s++)
            {
                final PacketBatch input = inputs[s];
                if (input.count() == 0)
                {
                    continue;
                }
                pending = true;
                stages[s].run(input);
                if (s != StageId.INTERFACE_OUTPUT && s != StageId.ERROR_DROP)
                {
                    for (int i = 0, n = input.count(); i < n; i++)
                    {
                        final int h = input.handle(i);
                        enqueue(inputs[pool.next(h)], h);
                    }
                }
                input.clear();
            }
        }
    }

    /** A stage hands over a packet it created (an ARP request) to be processed by {@code stage} in this run. */
    public void inject(final int h, final int stage)
    {
        pool.next(h, stage);
        enqueue(inputs[stage], h);
    }

    private void enqueue(final PacketBatch target, final int h)
    {
        if (!target.add(h))
        {
            overflow.incrementRelease();
            pool.free(h);
        }
    }
}
