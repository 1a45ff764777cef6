package io.edgeplane.stage;

import io.edgeplane.buffer.PacketBatch;
import io.edgeplane.buffer.PacketPool;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.testing.Frames;
import io.edgeplane.testing.Harness;
import io.edgeplane.trace.PacketTracer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graph assembly from declared names, and feature arcs enabled per interface. */
class StageGraphTest
{
    private static final long PORT2_MAC = 0x0200_0000_0201L;
    private static final long HOST2_MAC = 0x0200_0000_0220L;

    /** A feature that records which packets it saw (by packet id) and passes them on. */
    static final class RecordingFeature extends FeatureStage
    {
        final List<Long> seen = new ArrayList<>();
        final List<String> log;

        RecordingFeature(final String name, final String arc, final int order, final List<String> log,
            final PacketPool pool, final DataplaneCounters counters, final PacketTracer tracer)
        {
            super(name, arc, order, pool, counters, tracer);
            this.log = log;
        }

        @Override
        protected void process(final PacketBatch batch)
        {
            for (int i = 0; i < batch.count(); i++)
            {
                final int h = batch.handle(i);
                seen.add(pool.packetId(h));
                log.add(name() + ":" + pool.packetId(h));
                continueArc(h);
            }
        }
    }

    private final List<String> log = new ArrayList<>();
    private final List<RecordingFeature> features = new ArrayList<>();

    private Dataplane.Feature feature(final String name, final String arc, final int order)
    {
        return (pool, counters, tracer) ->
        {
            final RecordingFeature f = new RecordingFeature(name, arc, order, log, pool, counters, tracer);
            features.add(f);
            return f;
        };
    }

    private long fromPort1(final Harness harness)
    {
        return harness.receive(0, Frames.udpFrame(Harness.PORT1_MAC, Harness.CLIENT_MAC, ip("10.1.0.10"),
            ip("10.2.0.20"), 64, 1000, 2000, 8));
    }

    private long fromPort2(final Harness harness)
    {
        return harness.receive(1, Frames.udpFrame(PORT2_MAC, HOST2_MAC, ip("10.2.0.20"), ip("10.3.0.30"), 64,
            1000, 2000, 8));
    }

    @Test
    void shouldRunAnArcFeatureForExactlyThePacketsOfTheInterfacesItIsEnabledOn() throws Exception
    {
        final Harness harness = new Harness(Harness.CONFIG, List.of(
            feature("test-in", FeatureArc.IP4_UNICAST, 10), feature("test-out", FeatureArc.IP4_OUTPUT, 10)));
        final RecordingFeature in = features.get(0);
        final RecordingFeature out = features.get(1);
        final FeatureArc unicast = harness.dataplane.arc(FeatureArc.IP4_UNICAST);
        final FeatureArc output = harness.dataplane.arc(FeatureArc.IP4_OUTPUT);

        final long before1 = fromPort1(harness);
        final long before2 = fromPort2(harness);
        harness.flush();
        assertTrue(in.seen.isEmpty() && out.seen.isEmpty(), "disabled features see nothing");

        unicast.enable("test-in", 0, true);
        output.enable("test-out", 2, true);
        final long a = fromPort1(harness);
        final long b = fromPort2(harness);
        harness.flush();
        assertEquals(List.of(a), in.seen, "ingress feature on Port1 sees Port1's packet only");
        assertEquals(List.of(b), out.seen, "egress feature on Port3 sees the packet leaving Port3 only");
        for (final long id : new long[] {before1, before2, a, b})
        {
            assertTrue(harness.sentFor(id) != null, "packet " + id + " forwarded");
        }

        unicast.enable("test-in", 0, false);
        output.enable("test-out", 2, false);
        fromPort1(harness);
        fromPort2(harness);
        harness.flush();
        assertEquals(1, in.seen.size());
        assertEquals(1, out.seen.size());
    }

    @Test
    void shouldRunFeaturesOfOneArcInTheirOrderAndSkipDisabledOnes() throws Exception
    {
        final Harness harness = new Harness(Harness.CONFIG, List.of(
            feature("late", FeatureArc.IP4_UNICAST, 30), feature("early", FeatureArc.IP4_UNICAST, 10),
            feature("middle", FeatureArc.IP4_UNICAST, 20)));
        final FeatureArc unicast = harness.dataplane.arc(FeatureArc.IP4_UNICAST);
        assertEquals(List.of("early", "middle", VxlanDecapStage.NAME, "late", NatStage.NAME), unicast.features(),
            "in order (equal orders by name), with the built-in tunnel decapsulation (20) and NAT (30) among them");
        unicast.enable("late", 0, true);
        unicast.enable("early", 0, true);
        final long id = fromPort1(harness);
        harness.flush();
        assertEquals(List.of("early:" + id, "late:" + id), log);
        assertTrue(harness.sentFor(id) != null);
    }

    /** A stage that declares what it likes and tries to resolve {@code resolve} at assembly. */
    private static final class ToyStage extends Stage
    {
        private final String resolve;

        ToyStage(final String name, final String resolve, final PacketPool pool, final DataplaneCounters counters,
            final String... nexts)
        {
            super(name, pool, counters, new PacketTracer(1), nexts);
            this.resolve = resolve;
        }

        @Override
        protected void bind(final StageGraph.Binder binder)
        {
            if (resolve != null)
            {
                binder.next(resolve);
            }
        }

        @Override
        protected void process(final PacketBatch batch)
        {
        }
    }

    @Test
    void shouldRefuseGraphsWithUnknownUndeclaredOrUnreachableStages()
    {
        final PacketPool pool = new PacketPool(8);
        final DataplaneCounters counters = new DataplaneCounters(new String[0]);
        final IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () ->
            StageGraph.builder(pool, counters).stage(new ToyStage("a", null, pool, counters, "nowhere"))
                .stage(new ToyStage(Stage.ERROR_DROP, null, pool, counters)).build("a"));
        assertTrue(unknown.getMessage().contains("nowhere"), unknown.getMessage());
        final IllegalArgumentException undeclared = assertThrows(IllegalArgumentException.class, () ->
            StageGraph.builder(pool, counters).stage(new ToyStage("a", "b", pool, counters, "c"))
                .stage(new ToyStage("c", null, pool, counters, "b"))
                .stage(new ToyStage("b", null, pool, counters))
                .stage(new ToyStage(Stage.ERROR_DROP, null, pool, counters)).build("a"));
        assertTrue(undeclared.getMessage().contains("did not declare"), undeclared.getMessage());
        final IllegalArgumentException unreachable = assertThrows(IllegalArgumentException.class, () ->
            StageGraph.builder(pool, counters).stage(new ToyStage("a", null, pool, counters))
                .stage(new ToyStage("island", null, pool, counters))
                .stage(new ToyStage(Stage.ERROR_DROP, null, pool, counters)).build("a"));
        assertTrue(unreachable.getMessage().contains("island"), unreachable.getMessage());
    }

    @Test
    void shouldOrderStagesSoFeedersRunFirst() throws Exception
    {
        final Harness harness = new Harness();
        final List<String> names = harness.dataplane.graph().names();
        assertTrue(names.indexOf("ethernet-input") < names.indexOf("ip4-input"));
        assertTrue(names.indexOf("ip4-input") < names.indexOf("ip4-lookup"));
        assertTrue(names.indexOf("ip4-lookup") < names.indexOf("ip4-rewrite"));
        assertTrue(names.indexOf("ip4-rewrite") < names.indexOf("interface-output"));
    }

    /** A stage that sends each packet to the stage {@code route} names for its id, or records and frees it. */
    private static final class RoutingStage extends Stage
    {
        private final LongFunction<String> route;
        private final List<Long> seen = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();

        RoutingStage(final String name, final LongFunction<String> route, final PacketPool pool,
            final DataplaneCounters counters, final String... nexts)
        {
            super(name, pool, counters, new PacketTracer(1), nexts);
            this.route = route;
        }

        @Override
        protected void bind(final StageGraph.Binder binder)
        {
            for (final String next : nextNames())
            {
                ids.put(next, binder.next(next));
            }
        }

        @Override
        public boolean terminal()
        {
            return route == null;
        }

        @Override
        protected void process(final PacketBatch batch)
        {
            for (int i = 0; i < batch.count(); i++)
            {
                final int h = batch.handle(i);
                seen.add(pool.packetId(h));
                if (route == null)
                {
                    pool.free(h);
                }
                else
                {
                    pool.next(h, ids.get(route.apply(pool.packetId(h))));
                }
            }
        }
    }

    @Test
    void shouldHandAWholeVectorOnOnlyWhenItAllGoesOneWayAndTheNextInputIsEmpty()
    {
        final PacketPool pool = new PacketPool(64);
        final DataplaneCounters counters = new DataplaneCounters(new String[0]);
        // split: ids below 3 straight to the sink, the rest through mid; mid: everything to the sink.
        final RoutingStage split = new RoutingStage("split", id -> id < 3 ? "sink" : "mid", pool, counters, "mid",
            "sink");
        final RoutingStage mid = new RoutingStage("mid", id -> "sink", pool, counters, "sink");
        final RoutingStage sink = new RoutingStage("sink", null, pool, counters);
        final StageGraph graph = StageGraph.builder(pool, counters).stage(split).stage(mid).stage(sink)
            .stage(new ToyStage(Stage.ERROR_DROP, null, pool, counters)).build("split");

        // A mixed vector: mid's whole output meets the sink's input already holding 0-2; it must queue behind them.
        graph.process(vector(pool, 0, 10));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), sink.seen);
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L, 8L, 9L), mid.seen);
        // A vector that goes one way at every stage: handed on whole twice, nothing lost, order kept.
        sink.seen.clear();
        graph.process(vector(pool, 20, 30));
        assertEquals(List.of(20L, 21L, 22L, 23L, 24L, 25L, 26L, 27L, 28L, 29L), sink.seen);
        graph.process(vector(pool, 40, 43));
        assertEquals(List.of(20L, 21L, 22L, 23L, 24L, 25L, 26L, 27L, 28L, 29L, 40L, 41L, 42L), sink.seen);
        assertEquals(64, pool.freeCount(), "every packet freed once");
    }

    private static PacketBatch vector(final PacketPool pool, final long fromId, final long toId)
    {
        final PacketBatch batch = new PacketBatch(PacketBatch.VECTOR_SIZE);
        for (long id = fromId; id < toId; id++)
        {
            final int h = pool.allocate();
            pool.packetId(h, id);
            batch.add(h);
        }
        return batch;
    }
}
