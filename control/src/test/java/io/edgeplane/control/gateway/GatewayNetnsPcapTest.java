package io.edgeplane.control.gateway;

/** Runs every test (and assertion) of {@link GatewayNetnsContract} with {@code --io pcap}. */
class GatewayNetnsPcapTest extends GatewayNetnsContract
{
    @Override
    String io()
    {
        return "pcap";
    }
}
