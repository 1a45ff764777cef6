package io.edgeplane.proto;

import java.nio.ByteOrder;

/** Every multi-byte header field on the wire is big-endian; flyweights name this at each access. */
public final class NetworkOrder
{
    public static final ByteOrder NETWORK_ORDER = ByteOrder.BIG_ENDIAN;

    private NetworkOrder()
    {
    }
}
