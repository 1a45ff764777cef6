package io.edgeplane.config;

import io.edgeplane.testing.Harness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfigLoaderTest
{
    private static final String PORT = "{ \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\" }";

    @Test
    void shouldLoadTheHarnessConfig() throws ConfigException
    {
        final DataplaneConfig config = ConfigLoader.parse(Harness.CONFIG);
        assertEquals(3, config.ports().size());
        assertEquals(1400, config.ports().get(2).mtu());
        assertEquals(0x0A030001, config.ports().get(2).address());
        assertEquals(3, config.neighbors().size());
        assertEquals(2, config.portIndex("Port3"));
    }

    @Test
    void shouldTakeExtraAddressesAndTheReversePathFilter() throws ConfigException
    {
        final DataplaneConfig config = ConfigLoader.parse("{ \"ports\": [ { \"name\": \"Port1\", \"mac\": " +
            "\"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\", \"addresses\": [\"10.1.0.5\", \"198.51.100.7\"], " +
            "\"rpFilter\": \"strict\" } ] }");
        assertEquals(java.util.List.of(0x0A010005, 0xC6336407), config.ports().get(0).addresses());
        assertEquals("strict", config.ports().get(0).rpFilter());
        assertEquals(config, ConfigLoader.parse(io.edgeplane.config.Json.STRICT.valueToTree(config).toString()),
            "the JSON shape reads back to the same config");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{ \"ports\": [] }                                                          | ports: must be a non-empty array",
        "[1, 2]                                                                     | top level must be a JSON object",
        "{ \"ports\": [ PORT ], \"colour\": 1 }                                     | colour: unknown field",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/33\" } ] } | ports[0].ipv4: prefix length 33 not in 0..32",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"300.1.0.1/24\" } ] } | ports[0].ipv4: not an IPv4 address: 300.1.0.1 (octet 300 > 255)",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"01:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\" } ] } | ports[0].mac: must be a unicast, non-zero MAC",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\", \"mtu\": 20 } ] } | ports[0].mtu: 20 not in 68..9216",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.0/24\" } ] } | ports[0].ipv4: 10.1.0.0/24 is the network or broadcast address",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\", \"mtu\": \"big\" } ] } | ports[0].mtu: must be an integer",
        "{ \"ports\": [ PORT, PORT ] }                                               | ports[1].name: duplicate port name Port1",
        "{ \"ports\": [ PORT ], \"neighbors\": [ { \"interface\": \"Port9\", \"ip\": \"10.1.0.2\", \"mac\": \"02:00:00:00:00:02\" } ] } | neighbors[0].interface: unknown interface Port9",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"10.9.0.1/16\", \"nextHop\": \"10.1.0.2\" } ] } | routes[0].prefix: host bits set in 10.9.0.1/16 (did you mean 10.9.0.0/16?)",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.1.0.2\", \"metric\": -1 } ] } | routes[0].metric: -1 not in 1..9999",
        "{ \"ports\": [ PORT ]                                                   | not valid JSON",
        "{ \"ports\": [ PORT ] } garbage                                         | not valid JSON",
        "{ \"ports\": [ PORT ] } { \"ports\": [ PORT ] }                        | not valid JSON",
        "{ \"ports\": [ PORT ], \"ports\": [ PORT ] }                           | not valid JSON: Duplicate field 'ports'",
        "{ \"ports\": [ PORT, { \"name\": \"Port2\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.2.0.1/24\" } ] } | ports[1].mac: 02:00:00:00:01:01 is also ports[0].mac",
        "{ \"ports\": [ PORT, { \"name\": \"Port2\", \"mac\": \"02:00:00:00:02:01\", \"ipv4\": \"10.1.0.1/16\" } ] } | ports[1].ipv4: 10.1.0.1 is also an address of ports[0]",
        "{ \"ports\": [ PORT, { \"name\": \"Port2\", \"mac\": \"02:00:00:00:02:01\", \"ipv4\": \"10.1.0.9/16\" } ] } | ports[1].ipv4: 10.1.0.9/16 overlaps ports[0].ipv4 10.1.0.1/24",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\", \"device\": \"eth0\" }, { \"name\": \"Port2\", \"mac\": \"02:00:00:00:02:01\", \"ipv4\": \"10.2.0.1/24\", \"device\": \"eth0\" } ] } | ports[1].device: eth0 is also bound by ports[0]",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"00:00:00:00:00:00\", \"ipv4\": \"10.1.0.1/24\" } ] } | ports[0].mac: must be a unicast, non-zero MAC",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\", \"rpFilter\": \"on\" } ] } | ports[0].rpFilter: on is not one of off, loose, strict",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.1.0.2\" }, { \"interface\": \"Port1\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.1.0.3\" } ] } | routes[1].prefix: a second route to 10.9.0.0/16 on Port1",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.1.0.255\" } ] } | routes[0].nextHop: 10.1.0.255 is the network or broadcast address of Port1",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.1.0.0\" } ] } | routes[0].nextHop: 10.1.0.0 is the network or broadcast address of Port1",
        "{ \"ports\": [ PORT ], \"neighbors\": [ { \"interface\": \"Port1\", \"ip\": \"10.1.0.255\", \"mac\": \"02:00:00:00:00:02\" } ] } | neighbors[0].ip: 10.1.0.255 is the network or broadcast address of Port1",
        "{ \"ports\": [ PORT ], \"neighbors\": [ { \"interface\": \"Port1\", \"ip\": \"10.1.0.2\", \"mac\": \"00:00:00:00:00:00\" } ] } | neighbors[0].mac: must be a unicast, non-zero MAC",
        "{ \"ports\": [ PORT ], \"flowHashSeed\": \"7\" }                      | flowHashSeed: must be an integer",
        "{ \"ports\": [ PORT ], \"flowHashSeed\": 7.5 }                        | flowHashSeed: must be an integer",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"10.9.0.0/16\", \"nextHop\": \"10.1.0.2\", \"metric\": 1.5 } ] } | routes[0].metric: must be an integer",
        "{ \"ports\": [ { \"name\": \"Port1\", \"mac\": \"02:00:00:00:01:01\", \"ipv4\": \"10.1.0.1/24\", \"mtu\": 1500.0 } ] } | ports[0].mtu: must be an integer",
        "{ \"ports\": [ PORT ], \"routes\": [ { \"interface\": \"Port1\", \"prefix\": \"010.9.0.0/16\", \"nextHop\": \"10.1.0.2\" } ] } | routes[0].prefix: not an IPv4 address: 010.9.0.0 (octet 010 has a leading zero",
        "{ \"ports\": [ null ] }                                                  | ports[0]: must not be null",
        "{ \"ports\": [ PORT, null ] }                                            | ports[1]: must not be null",
        "{ \"ports\": [ PORT ], \"routes\": [ null ] }                            | routes[0]: must not be null",
        "{ \"ports\": [ PORT ], \"neighbors\": [ null ] }                         | neighbors[0]: must not be null",
        "{ \"ports\": [ PORT ], \"services\": [ null ] }                          | services[0]: must not be null",
        "{ \"ports\": [ PORT ], \"nat\": { \"inside\": [ null ] } }               | nat.inside[0]: must not be null",
        "{ \"ports\": [ PORT ], \"nat\": \"on\" }                                  | nat: must be a JSON object",
        "{ \"ports\": [ PORT ], \"nat\": { \"inside\": [\"Port1\"], \"outside\": \"Port1\", \"timeouts\": { \"udp\": \"x\" } } } | nat.timeouts.udp: must be an integer",
        "{ \"ports\": [ PORT ], \"serviceNetwork\": { \"colour\": 1 } }            | serviceNetwork.colour: unknown field",
        "{ \"ports\": [ PORT ], \"services\": {} }                                 | services: must be an array",
        "{ \"ports\": [ PORT ], \"services\": [ {} ] }                             | services[0].name: missing",
        "{ \"ports\": [ PORT ], \"services\": [ { \"name\": \"a\", \"ports\": [ { \"port\": \"80\" } ] } ] } | services[0].ports[0].port: must be an integer",
        "{ \"ports\": [ PORT ], \"services\": [ { \"name\": \"a\", \"ports\": [ { \"port\": 80 } ], \"backends\": [ { \"ip\": \"10.4.0.2\" }, { \"ip\": \"10.4.0.300\" } ] } ] } | services[0].backends[1].ip: not an IPv4 address",
    })
    void shouldRejectWithFieldAndReason(final String json, final String expected)
    {
        final ConfigException ex = assertThrows(ConfigException.class,
            () -> ConfigLoader.parse(json.replace("PORT", PORT)));
        assertEquals(true, ex.getMessage().startsWith(expected.trim()), ex.getMessage());
    }
}
