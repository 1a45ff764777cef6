package io.edgeplane.control.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgeplane.stage.FlowDispatch;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The services contract with two workers: the spread is fixed so that the client's worker is not that of two of the
 * three backends, so their replies arrive at the other worker and must be handed to the client's (which owns the flow
 * and translates it back); 300 connections spread over the backends, downloads surviving backend changes and a removed
 * backend ending its flows cleanly must all hold across workers.
 */
class GatewayServiceNetnsTwoWorkersTest extends GatewayServiceNetnsTest
{
    private static final int CLIENT_HOST = ip("10.1.0.10");
    /** 10.4.0.2 and 10.6.0.2 agree in their low 17 bits, so an odd multiplier always spreads them alike. */
    private static final int[] CROSSING_BACKENDS = {ip("10.4.0.2"), ip("10.6.0.2")};
    /**
     * The client on the other worker than two of the three backends. No odd multiplier can separate it from all
     * three: 10.4.0.2 and 10.5.0.2 differ only in bit 16, which an odd product always flips, so those two always
     * land on different workers.
     */
    private static final int MULTIPLIER = TwoWorkers.multiplierSeparating(CLIENT_HOST, CROSSING_BACKENDS);

    @Override
    int workers()
    {
        return 2;
    }

    @Override
    List<String> launcher()
    {
        return TwoWorkers.launcher(MULTIPLIER);
    }

    @Test
    @Order(100)
    void backendRepliesCrossedToTheClientsWorker() throws Exception
    {
        final Netns.Result result = Netns.exec(10, GW, "curl", "-s", "http://127.0.0.1:" + apiPort + "/v1/counters");
        final JsonNode counters = new ObjectMapper().readTree(result.output());
        final int clientWorker = FlowDispatch.spread(CLIENT_HOST, MULTIPLIER, 2);
        final JsonNode workers = counters.get("workers");
        final long handedOut = workers.get(1 - clientWorker).get("events").path("handoff-out").asLong();
        assertTrue(handedOut > 1000, "the backends' worker handed their replies over: " + handedOut);
        assertEquals(handedOut, workers.get(clientWorker).get("events").path("handoff-in").asLong());
        assertEquals(0, counters.get("events").path("handoff-ring-full").asLong());
    }
}
