package io.edgeplane.control.gateway;

/** Runs every test (and assertion) of {@link GatewayNetnsContract} with {@code --io pcap}, with the peers' default offloads. */
class GatewayNetnsPcapTest extends GatewayNetnsContract
{
    @Override
    String io()
    {
        return "pcap";
    }

    @Override
    boolean peerOffloads()
    {
        return true;
    }
}
