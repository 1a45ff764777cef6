package io.edgeplane.control.gateway;

/** The NAT contract over {@code --io pcap}. */
class GatewayNatNetnsPcapTest extends GatewayNatNetnsContract
{
    @Override
    String io()
    {
        return "pcap";
    }
}
