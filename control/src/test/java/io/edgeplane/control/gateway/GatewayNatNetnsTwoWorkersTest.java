package io.edgeplane.control.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeplane.stage.FlowDispatch;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.edgeplane.testing.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The NAT contract with two workers over {@code --io afpacket}: the ports' sockets form fanout groups whose classic
 * BPF program spreads frames by source address. The spread is fixed here so that the inside host and the server
 * land on different workers: every reply crosses from the server's worker to the inside host's (by the mapped
 * port's slice), and the whole contract (ping, the 3 MiB download, 500 connections, ICMP errors, unsolicited
 * traffic refused) must hold across them.
 */
class GatewayNatNetnsTwoWorkersTest extends GatewayNatNetnsContract
{
    private static final int INSIDE_HOST = ip("10.4.0.2");
    private static final int SERVER_HOST = ip("198.51.100.7");
    private static final int MULTIPLIER = TwoWorkers.multiplierSeparating(INSIDE_HOST, SERVER_HOST);

    @Override
    String io()
    {
        return "afpacket";
    }

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
    void theKernelSpreadFramesAsTheWorkersExpectAndRepliesCrossedToTheirOwner() throws Exception
    {
        final JsonNode counters = api("GET", "/v1/counters");
        final JsonNode workers = counters.get("workers");
        assertEquals(2, workers.size(), counters.toString());
        final int insideWorker = FlowDispatch.spread(INSIDE_HOST, MULTIPLIER, 2);
        final long insideRx = workers.get(insideWorker).get("ports").get("Port4").get("rx-packets").asLong();
        final long strayRx = workers.get(1 - insideWorker).get("ports").get("Port4").get("rx-packets").asLong();
        assertTrue(insideRx > 1000, "the inside host's worker took its frames: " + insideRx);
        // Only ARP (the kernel program sends what is not IPv4 to the first member) reaches the other worker.
        assertTrue(strayRx < 50, "the kernel's spread agrees with the workers' (" + strayRx + " stray frames)");
        final long handedOut = workers.get(1 - insideWorker).get("events").path("handoff-out").asLong();
        assertTrue(handedOut > 1000, "the server's worker handed the replies over: " + handedOut);
        assertEquals(handedOut, workers.get(insideWorker).get("events").path("handoff-in").asLong());
        assertEquals(0, counters.get("events").path("handoff-ring-full").asLong());
        final JsonNode nat = api("GET", "/v1/nat");
        assertTrue(nat.toString().contains("sessions"), nat.toString());
    }
}
