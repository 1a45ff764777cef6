package io.edgeplane.control.gateway;

/** Runs every test (and assertion) of {@link GatewayNetnsContract} with {@code --io afpacket}, with the peers' default offloads. */
class GatewayNetnsAfPacketTest extends GatewayNetnsContract
{
    @Override
    String io()
    {
        return "afpacket";
    }

    @Override
    boolean peerOffloads()
    {
        return true;
    }
}
