package io.edgeplane.control.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeplane.config.ConfigException;
import io.edgeplane.config.Json;
import io.edgeplane.config.NatConfig;
import io.edgeplane.control.api.ApiException;
import io.edgeplane.control.api.ResourceHandler;
import io.edgeplane.control.worker.WorkerProxy;
import io.edgeplane.nat.Nat;
import io.edgeplane.nat.NatSettings;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.proto.Ipv4Flyweight;
import io.edgeplane.session.SessionTable;

import java.util.List;
import java.util.Map;

/**
 * The masquerade settings ({@code /v1/nat}, one object): {@code PUT} validates and applies a whole {@link NatConfig}
 * (new flows use it; established sessions keep their translation), {@code GET} shows it with what it resolved to
 * (outside port and addresses) and the session table's figures. The sessions themselves are listed and flushed
 * through {@code /v1/nat/sessions} ({@link #sessions}, {@link #flush}), which are not journaled: sessions are
 * traffic state, not configuration.
 */
public final class NatResource implements ResourceHandler<NatConfig, NatConfig>
{
    public static final int DEFAULT_LIMIT = 1000;
    public static final int MAX_LIMIT = 100_000;

    private final Nat nat;
    private final PortTable ports;
    private final WorkerProxy worker;

    public NatResource(final Nat nat, final PortTable ports, final WorkerProxy worker)
    {
        this.nat = nat;
        this.ports = ports;
        this.worker = worker;
    }

    @Override
    public String name()
    {
        return "nat";
    }

    @Override
    public boolean singleton()
    {
        return true;
    }

    @Override
    public String addOp()
    {
        return "nat-set";
    }

    @Override
    public String removeOp()
    {
        return null;
    }

    @Override
    public Class<NatConfig> recordType()
    {
        return NatConfig.class;
    }

    @Override
    public Class<NatConfig> keyType()
    {
        return NatConfig.class;
    }

    @Override
    public Change add(final NatConfig config) throws ApiException
    {
        final NatConfig previous = nat.config();
        try
        {
            nat.configure(config);
        }
        catch (final ConfigException ex)
        {
            throw new ApiException("maxSessions".equals(ex.field()) && ex.getMessage().contains("restart") ? 409 : 400,
                ex.field(), ex.getMessage());
        }
        return new Change(view().get(0), previous != null, () ->
        {
            try
            {
                nat.configure(previous);
            }
            catch (final ConfigException ex)
            {
                throw new IllegalStateException("could not restore the NAT settings: " + ex.getMessage(), ex);
            }
        });
    }

    @Override
    public Change remove(final NatConfig key) throws ApiException
    {
        throw new ApiException(405, null, "nat cannot be removed; PUT it with \"inside\": [] to turn it off");
    }

    @Override
    public List<?> list()
    {
        final NatConfig config = nat.config();
        return config == null ? List.of() : List.of(config);
    }

    /** What {@link #view} adds: a PUT of a GET's answer (edited) is accepted. {@code enabled} is checked instead. */
    @Override
    public java.util.Set<String> readOnlyFields()
    {
        return java.util.Set.of("outsidePort", "outsideAddresses", "statistics");
    }

    /** The settings, what they resolved to, and the table's figures. */
    @Override
    public List<?> view()
    {
        final NatConfig config = nat.config();
        final ObjectNode node = config == null ?
            Json.STRICT.createObjectNode().put("enabled", false) :
            ((ObjectNode)Json.STRICT.valueToTree(config)).put("enabled", config.enabled());
        final NatSettings settings = nat.settings();
        if (settings != null)
        {
            node.put("outsidePort", settings.outside() < 0 ? null : ports.name(settings.outside()));
            final ArrayNode addresses = node.putArray("outsideAddresses");
            for (int i = 0; i < settings.addressCount(); i++)
            {
                addresses.add(Ipv4Address.format(settings.address(i)));
            }
        }
        final WorkerProxy.NatStatistics statistics = worker.natStatistics();
        if (statistics != null)
        {
            node.putObject("statistics")
                .put("sessions", statistics.sessions())
                .put("mappings", statistics.mappings())
                .put("capacity", statistics.capacity())
                .put("created", statistics.created())
                .put("expired", statistics.expired());
        }
        return List.of(node);
    }

    @Override
    public void restore(final JsonNode section) throws ApiException
    {
        try
        {
            nat.configure(Json.bind(section, NatConfig.class));
        }
        catch (final ConfigException ex)
        {
            throw ApiException.badRequest(ex.field(), ex.getMessage());
        }
    }

    @Override
    public JsonNode get(final String part, final Map<String, String> query) throws ApiException
    {
        if (!"sessions".equals(part))
        {
            return ResourceHandler.super.get(part, query);
        }
        return sessions(query);
    }

    @Override
    public JsonNode delete(final String part, final Map<String, String> query) throws ApiException
    {
        if (!"sessions".equals(part))
        {
            return ResourceHandler.super.delete(part, query);
        }
        return flush(query);
    }

    /** {@code GET /v1/nat/sessions?address=&protocol=&limit=}. */
    public ArrayNode sessions(final Map<String, String> query) throws ApiException
    {
        final int limit = limit(query.get("limit"));
        final ArrayNode out = Json.STRICT.createArrayNode();
        for (final WorkerProxy.NatSession session : worker.natSessions(address(query), protocol(query), limit))
        {
            final ObjectNode node = out.addObject();
            node.put("protocol", protocolName(session.protocol()));
            node.put("original", tuple(session.original()));
            node.put("reply", tuple(session.reply()));
            if (session.protocol() == Ipv4Flyweight.PROTOCOL_TCP)
            {
                node.put("state", SessionTable.tcpEstablished(session.tcpState()) ? "established" : "transitory");
            }
            node.put("idleSeconds", session.idleNanos() / 1_000_000_000L);
            node.put("expiresInSeconds", Math.max(0, session.expiresInNanos() / 1_000_000_000L));
        }
        return out;
    }

    /** {@code DELETE /v1/nat/sessions?address=&protocol=}: the number flushed. */
    public ObjectNode flush(final Map<String, String> query) throws ApiException
    {
        if (query.containsKey("limit"))
        {
            throw ApiException.badRequest("limit", "limit: not accepted by a flush");
        }
        return Json.STRICT.createObjectNode().put("flushed", worker.natFlush(address(query), protocol(query)));
    }

    private static String tuple(final int[] t)
    {
        return Ipv4Address.format(t[0]) + ":" + t[1] + " -> " + Ipv4Address.format(t[2]) + ":" + t[3];
    }

    private static String protocolName(final int protocol)
    {
        return switch (protocol)
        {
            case Ipv4Flyweight.PROTOCOL_TCP -> "tcp";
            case Ipv4Flyweight.PROTOCOL_UDP -> "udp";
            case Ipv4Flyweight.PROTOCOL_ICMP -> "icmp";
            default -> Integer.toString(protocol);
        };
    }

    private static int address(final Map<String, String> query) throws ApiException
    {
        final String text = query.get("address");
        if (text == null)
        {
            return 0;
        }
        try
        {
            return Ipv4Address.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw ApiException.badRequest("address", "address: " + ex.getMessage());
        }
    }

    private static int protocol(final Map<String, String> query) throws ApiException
    {
        final String text = query.get("protocol");
        if (text == null)
        {
            return 0;
        }
        return switch (text.toLowerCase(java.util.Locale.ROOT))
        {
            case "tcp" -> Ipv4Flyweight.PROTOCOL_TCP;
            case "udp" -> Ipv4Flyweight.PROTOCOL_UDP;
            case "icmp" -> Ipv4Flyweight.PROTOCOL_ICMP;
            default -> throw ApiException.badRequest("protocol", "protocol: must be tcp, udp or icmp, not " + text);
        };
    }

    private static int limit(final String text) throws ApiException
    {
        if (text == null)
        {
            return DEFAULT_LIMIT;
        }
        try
        {
            final int limit = Integer.parseInt(text);
            if (limit >= 1 && limit <= MAX_LIMIT)
            {
                return limit;
            }
        }
        catch (final NumberFormatException ex)
        {
            // reported below
        }
        throw ApiException.badRequest("limit", "limit: must be a number in 1.." + MAX_LIMIT + ", not " + text);
    }
}
