package io.edgeplane.control.gateway;

class GatewayNetnsAfPacketTest extends GatewayNetnsContract
{
    @Override
    String io()
    {
        return "afpacket";
    }
}
