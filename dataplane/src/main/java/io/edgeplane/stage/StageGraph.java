package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.trace.TraceRecords;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The packet graph of one worker, assembled at start from stages that declare their next stages by name (VPP's
 * node registration) and from {@link FeatureArc}s with the feature stages registered on them. Assembly checks
 * every declared name exists, orders the stages from the entry stage along the declared edges (depth first,
 * reverse post-order, so a stage runs after the stages that feed it; edges back, such as a generated ICMP error
 * going to ip4-lookup again, are allowed) and gives each stage its index.
 * <p>
 * {@link #process} runs one received vector to completion: each stage with a non-empty input vector runs once over
 * it, then its packets move to the input vectors of their next stages (a vector that all goes to one stage with an
 * empty input is handed over whole: the two vectors trade places); passes repeat until every vector is empty.
 * Owned by the worker thread.
 */
public final class StageGraph implements TraceRecords.Formatter
{
    /** Room for a full rx vector plus packets the stages generate (ARP requests, ICMP errors). */
    public static final int INPUT_CAPACITY = PacketBatch.VECTOR_SIZE * 2;

    private final PacketPool pool;
    private final Stage[] stages;
    private final boolean[] terminal;
    private final PacketBatch[] inputs;
    private final Map<String, Integer> indexes = new LinkedHashMap<>();
    private final Map<String, FeatureArc> arcs;
    private final int entry;
    private final AtomicCounter overflow;

    private StageGraph(final PacketPool pool, final DataplaneCounters counters, final List<Stage> ordered,
        final Map<String, FeatureArc> arcs)
    {
        this.pool = pool;
        this.arcs = arcs;
        this.stages = ordered.toArray(new Stage[0]);
        this.terminal = new boolean[stages.length];
        this.inputs = new PacketBatch[stages.length];
        for (int i = 0; i < stages.length; i++)
        {
            indexes.put(stages[i].name(), i);
            terminal[i] = stages[i].terminal();
            inputs[i] = new PacketBatch(INPUT_CAPACITY);
        }
        this.entry = 0;
        this.overflow = counters.drop(DropReason.PIPELINE_OVERFLOW);
        for (final FeatureArc arc : arcs.values())
        {
            arc.assemble(new Binder(null));
        }
        for (int i = 0; i < stages.length; i++)
        {
            stages[i].attach(i, new Binder(stages[i]));
        }
    }

    public static Builder builder(final PacketPool pool, final DataplaneCounters counters)
    {
        return new Builder(pool, counters);
    }

    /** Collects stages and arcs; {@link #build} assembles them. */
    public static final class Builder
    {
        private final PacketPool pool;
        private final DataplaneCounters counters;
        private final Map<String, Stage> stages = new LinkedHashMap<>();
        private final Map<String, FeatureArc> arcs = new LinkedHashMap<>();

        private Builder(final PacketPool pool, final DataplaneCounters counters)
        {
            this.pool = pool;
            this.counters = counters;
        }

        public Builder stage(final Stage stage)
        {
            if (stages.putIfAbsent(stage.name(), stage) != null)
            {
                throw new IllegalArgumentException("two stages named " + stage.name());
            }
            return this;
        }

        public Builder arc(final FeatureArc arc)
        {
            arcs.put(arc.name(), arc);
            return this;
        }

        /** Add a feature stage and register it on its arc. */
        public Builder feature(final FeatureStage feature)
        {
            final FeatureArc arc = arcs.get(feature.arcName());
            if (arc == null)
            {
                throw new IllegalArgumentException(feature.name() + ": no arc " + feature.arcName());
            }
            stage(feature);
            arc.register(new FeatureArc.Registration(feature.name(), feature.order()));
            return this;
        }

        /** Assemble: resolve names, order from {@code entryStage}; every stage must be reachable from it. */
        public StageGraph build(final String entryStage)
        {
            for (final FeatureArc arc : arcs.values())
            {
                require(arc.entryStage(), "arc " + arc.name());
                require(arc.endStage(), "arc " + arc.name());
            }
            for (final Stage stage : stages.values())
            {
                for (final String next : stage.nextNames())
                {
                    require(next, "stage " + stage.name());
                }
            }
            require(Stage.ERROR_DROP, "the graph");
            require(entryStage, "the graph");
            final List<Stage> postOrder = new ArrayList<>();
            visit(stages.get(entryStage), new HashSet<>(), postOrder);
            if (postOrder.size() != stages.size())
            {
                final Set<String> unreachable = new HashSet<>(stages.keySet());
                postOrder.forEach(s -> unreachable.remove(s.name()));
                throw new IllegalArgumentException("stages not reachable from " + entryStage + ": " + unreachable);
            }
            final List<Stage> ordered = new ArrayList<>(postOrder.size());
            for (int i = postOrder.size() - 1; i >= 0; i--)
            {
                ordered.add(postOrder.get(i));
            }
            return new StageGraph(pool, counters, ordered, arcs);
        }

        private void require(final String name, final String who)
        {
            if (!stages.containsKey(name))
            {
                throw new IllegalArgumentException(who + " names stage " + name + ", which is not in the graph");
            }
        }

        private void visit(final Stage stage, final Set<String> seen, final List<Stage> postOrder)
        {
            if (!seen.add(stage.name()))
            {
                return;
            }
            for (final String next : edges(stage))
            {
                visit(stages.get(next), seen, postOrder);
            }
            postOrder.add(stage);
        }

        /** Declared edges, plus the arcs' edges: entry to every feature and the end, a feature to later ones. */
        private List<String> edges(final Stage stage)
        {
            final List<String> edges = new ArrayList<>(stage.nextNames());
            for (final FeatureArc arc : arcs.values())
            {
                final boolean entering = arc.entryStage().equals(stage.name());
                final boolean member = stage instanceof FeatureStage f && f.arcName().equals(arc.name());
                if (entering || member)
                {
                    final int order = member ? ((FeatureStage)stage).order() : Integer.MIN_VALUE;
                    stages.values().stream()
                        .filter(s -> s instanceof FeatureStage f && f.arcName().equals(arc.name()) && f.order() > order)
                        .sorted((a, b) -> Integer.compare(((FeatureStage)a).order(), ((FeatureStage)b).order()))
                        .forEach(s -> edges.add(s.name()));
                    edges.add(arc.endStage());
                }
            }
            edges.add(Stage.ERROR_DROP);
            return edges;
        }
    }

    /** What a stage may resolve at assembly: its declared next stages and the arcs. */
    public final class Binder
    {
        private final Stage stage;

        private Binder(final Stage stage)
        {
            this.stage = stage;
        }

        /** The index of a declared next stage. */
        public int next(final String name)
        {
            if (stage != null && !Stage.ERROR_DROP.equals(name) && !stage.nextNames().contains(name))
            {
                throw new IllegalArgumentException(stage.name() + " did not declare next stage " + name);
            }
            return index(name);
        }

        int index(final String name)
        {
            final Integer index = indexes.get(name);
            if (index == null)
            {
                throw new IllegalArgumentException("no stage " + name);
            }
            return index;
        }

        public FeatureArc arc(final String name)
        {
            final FeatureArc arc = arcs.get(name);
            if (arc == null)
            {
                throw new IllegalArgumentException("no arc " + name);
            }
            return arc;
        }
    }

    public int stageCount()
    {
        return stages.length;
    }

    public Stage stage(final int index)
    {
        return stages[index];
    }

    /** The stage with that name, or null. */
    public Stage stage(final String name)
    {
        final Integer index = indexes.get(name);
        return index == null ? null : stages[index];
    }

    /** @return the index of the stage with that name, or -1. */
    public int index(final String name)
    {
        final Integer index = indexes.get(name);
        return index == null ? -1 : index;
    }

    public FeatureArc arc(final String name)
    {
        return arcs.get(name);
    }

    /** Stage names in run order. */
    public List<String> names()
    {
        return List.copyOf(indexes.keySet());
    }

    /** Process a received vector (enters at the entry stage) until all packets left the graph. */
    public void process(final PacketBatch received)
    {
        final PacketBatch first = inputs[entry];
        for (int i = 0, n = received.count(); i < n; i++)
        {
            final int h = received.handle(i);
            pool.next(h, entry);
            enqueue(first, h);
        }
        received.clear();
        drain();
    }

    /** Run every non-empty input vector, in graph order, until all are empty. */
    public void drain()
    {
        boolean pending = true;
        while (pending)
        {
            pending = false;
            for (int s = 0; s < stages.length; s++)
            {
                final PacketBatch input = inputs[s];
                if (input.count() == 0)
                {
                    continue;
                }
                pending = true;
                stages[s].run(input);
                if (!terminal[s])
                {
                    final int whole = wholeVectorNext(input, s);
                    if (whole >= 0)
                    {
                        // VPP hands a whole frame to its next node the same way: the batches trade places.
                        inputs[s] = inputs[whole];
                        inputs[whole] = input;
                        continue;
                    }
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

    /**
     * The stage every packet of {@code batch} goes to next when they all go to the same one, other than {@code from},
     * and its input is empty (the common case: a vector of one traffic flows through the graph whole); else -1.
     */
    private int wholeVectorNext(final PacketBatch batch, final int from)
    {
        final int n = batch.count();
        if (n == 0)
        {
            return -1;
        }
        final int next = pool.next(batch.handle(0));
        if (next == from || inputs[next].count() != 0)
        {
            return -1;
        }
        for (int i = 1; i < n; i++)
        {
            if (pool.next(batch.handle(i)) != next)
            {
                return -1;
            }
        }
        return next;
    }

    private void enqueue(final PacketBatch target, final int h)
    {
        if (!target.add(h))
        {
            overflow.incrementRelease();
            pool.free(h);
        }
    }

    @Override
    public String stageName(final int stage)
    {
        return stage >= 0 && stage < stages.length ? stages[stage].name() : "stage-" + stage;
    }

    @Override
    public boolean isTerminal(final int stage)
    {
        return stage >= 0 && stage < stages.length && terminal[stage];
    }

    @Override
    public void formatRecord(final int stage, final int a, final int b, final int c, final int d,
        final StringBuilder out)
    {
        if (stage >= 0 && stage < stages.length)
        {
            stages[stage].formatTrace(a, b, c, d, out);
        }
    }
}
