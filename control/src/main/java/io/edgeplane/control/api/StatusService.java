package io.edgeplane.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.counters.CounterGroup;
import io.edgeplane.counters.DataplaneCounters;
import io.edgeplane.counters.DropReason;
import io.edgeplane.trace.TraceRecords;

import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The read-only side of the API: counters (JSON and Prometheus text) and the packet tracer. Trace records are
 * copied on the worker and formatted here, on the API thread, so a full trace buffer never stalls forwarding.
 */
public final class StatusService
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final CounterGroup counters;
    private final WorkerProxy worker;
    private final TraceRecords.Formatter formatter;
    private volatile Extension kubernetes;

    /** A status section added at run time ({@code /v1/kubernetes}): a JSON view and its {@code /metrics} lines. */
    public interface Extension
    {
        JsonNode view();

        void metrics(StringBuilder out);
    }

    /** Serve {@code /v1/kubernetes} and its metrics from {@code extension}. */
    public void kubernetes(final Extension extension)
    {
        kubernetes = extension;
    }

    /** {@code GET /v1/kubernetes}. */
    public JsonNode kubernetes() throws ApiException
    {
        final Extension extension = kubernetes;
        if (extension == null)
        {
            throw new ApiException(404, null, "the gateway runs without --kubernetes");
        }
        return extension.view();
    }

    public StatusService(final DataplaneCounters counters, final WorkerProxy worker,
        final TraceRecords.Formatter formatter)
    {
        this(CounterGroup.of(counters), worker, formatter);
    }

    public StatusService(final CounterGroup counters, final WorkerProxy worker,
        final TraceRecords.Formatter formatter)
    {
        this.counters = counters;
        this.worker = worker;
        this.formatter = formatter;
    }

    /** The totals over workers, and under {@code workers} each worker's own (to see the spread). */
    public ObjectNode counters()
    {
        final List<DataplaneCounters.Snapshot> perWorker = counters.perWorker();
        final ObjectNode node = snapshotNode(CounterGroup.sum(perWorker));
        final com.fasterxml.jackson.databind.node.ArrayNode workers = node.putArray("workers");
        perWorker.forEach(one -> workers.add(snapshotNode(one)));
        return node;
    }

    private static ObjectNode snapshotNode(final DataplaneCounters.Snapshot snapshot)
    {
        final ObjectNode node = MAPPER.createObjectNode();
        node.set("ports", MAPPER.valueToTree(snapshot.ports));
        node.set("stages", MAPPER.valueToTree(snapshot.stages));
        node.set("drops", MAPPER.valueToTree(snapshot.drops));
        node.set("events", MAPPER.valueToTree(snapshot.events));
        return node;
    }

    /** Prometheus text exposition format (version 0.0.4). */
    public String prometheus()
    {
        final DataplaneCounters.Snapshot snapshot = counters.snapshot();
        final StringBuilder out = new StringBuilder(4096);
        for (final String metric : new String[] {"rx-packets", "rx-bytes", "tx-packets", "tx-bytes"})
        {
            final String name = "edgeplane_port_" + metric.replace('-', '_') + "_total";
            out.append("# HELP ").append(name).append(" Port ").append(metric).append(".\n");
            out.append("# TYPE ").append(name).append(" counter\n");
            snapshot.ports.forEach((port, values) -> out.append(name).append("{port=\"").append(port).append("\"} ")
                .append(values.get(metric)).append('\n'));
        }
        out.append("# HELP edgeplane_stage_packets_total Packets processed per pipeline stage.\n");
        out.append("# TYPE edgeplane_stage_packets_total counter\n");
        snapshot.stages.forEach((stage, value) -> out.append("edgeplane_stage_packets_total{stage=\"").append(stage)
            .append("\"} ").append(value).append('\n'));
        out.append("# HELP edgeplane_drops_total Packets dropped, by reason.\n");
        out.append("# TYPE edgeplane_drops_total counter\n");
        for (final DropReason reason : DropReason.values())
        {
            out.append("edgeplane_drops_total{reason=\"").append(reason.label()).append("\"} ")
                .append(counters.drop(reason)).append('\n');
        }
        out.append("# HELP edgeplane_worker_rx_packets_total Packets each worker received (its share of the load).\n");
        out.append("# TYPE edgeplane_worker_rx_packets_total counter\n");
        final List<DataplaneCounters.Snapshot> perWorker = counters.perWorker();
        for (int w = 0; w < perWorker.size(); w++)
        {
            long rx = 0;
            for (final java.util.Map<String, Long> port : perWorker.get(w).ports.values())
            {
                rx += port.getOrDefault("rx-packets", 0L);
            }
            out.append("edgeplane_worker_rx_packets_total{worker=\"").append(w).append("\"} ").append(rx)
                .append('\n');
        }
        out.append("# HELP edgeplane_events_total Things that happened other than drops.\n");
        out.append("# TYPE edgeplane_events_total counter\n");
        snapshot.events.forEach((event, value) -> out.append("edgeplane_events_total{event=\"").append(event)
            .append("\"} ").append(value).append('\n'));
        final Extension extension = kubernetes;
        if (extension != null)
        {
            extension.metrics(out);
        }
        return out.toString();
    }

    /** The runtime table: per stage packets, vectors, nanoseconds, average vector size, ns per packet. */
    public JsonNode runtime()
    {
        final com.fasterxml.jackson.databind.node.ArrayNode rows = MAPPER.createArrayNode();
        for (final DataplaneCounters.StageRuntime row : counters.runtime())
        {
            rows.addObject().put("stage", row.stage()).put("packets", row.packets()).put("vectors", row.vectors())
                .put("nanos", row.nanos()).put("vectorSize", Math.round(row.vectorSize() * 10) / 10.0)
                .put("nsPerPacket", Math.round(row.nanosPerPacket() * 100) / 100.0);
        }
        return rows;
    }

    public ObjectNode startTrace(final JsonNode body) throws ApiException
    {
        if (body == null || !body.isObject())
        {
            throw ApiException.badRequest(null, "request body must be a JSON object");
        }
        final Iterator<String> names = body.fieldNames();
        while (names.hasNext())
        {
            final String name = names.next();
            if (!Set.of("packets", "address").contains(name))
            {
                throw ApiException.badRequest(name, name + ": unknown field (allowed: address, packets)");
            }
        }
        final JsonNode packetsNode = body.get("packets");
        if (packetsNode != null && (!packetsNode.isIntegralNumber() || !packetsNode.canConvertToInt()))
        {
            throw ApiException.badRequest("packets", "packets: must be an integer");
        }
        final int packets = packetsNode == null ? 10 : packetsNode.intValue();
        if (packets < 0 || packets > 10_000)
        {
            throw ApiException.badRequest("packets", "packets: " + packets + " not in 0..10000");
        }
        Integer address = null;
        final JsonNode addressNode = body.get("address");
        if (addressNode != null)
        {
            if (!addressNode.isTextual())
            {
                throw ApiException.badRequest("address", "address: must be a string");
            }
            try
            {
                address = ConfigLoader.parseAddress(addressNode.textValue(), "address");
            }
            catch (final ConfigException ex)
            {
                throw ApiException.badRequest("address", ex.getMessage());
            }
        }
        worker.startTrace(packets, address);
        return MAPPER.createObjectNode().put("tracing", packets);
    }

    /** Each worker traces the packets it owns; with several, each worker's part is headed by its index. */
    public String trace()
    {
        final List<TraceRecords> records = worker.traceRecords();
        if (records.size() == 1)
        {
            return records.get(0).format(formatter);
        }
        final StringBuilder out = new StringBuilder();
        for (int w = 0; w < records.size(); w++)
        {
            out.append("=== worker ").append(w).append(" ===\n").append(records.get(w).format(formatter));
        }
        return out.toString();
    }
}
