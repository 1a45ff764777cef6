package io.edgeplane.control.gateway;

/** The NAT contract over {@code --io afpacket}. */
class GatewayNatNetnsAfPacketTest extends GatewayNatNetnsContract
{
    @Override
    String io()
    {
        return "afpacket";
    }
}
