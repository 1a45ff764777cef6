package io.edgeplane.control.gateway;

/** Runs every test (and assertion) of {@link GatewayNetnsContract} with {@code --io afpacket}. */
class GatewayNetnsAfPacketTest extends GatewayNetnsContract
{
    @Override
    String io()
    {
        return "afpacket";
    }
}
