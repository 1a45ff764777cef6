package io.edgeplane.control.gateway;

class GatewayNetnsPcapTest extends GatewayNetnsContract
{
    @Override
    String io()
    {
        return "pcap";
    }
}
