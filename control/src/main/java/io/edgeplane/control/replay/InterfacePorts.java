package io.edgeplane.control.replay;

import io.edgeplane.config.DataplaneConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Which port a captured frame enters on: the port given with {@code --in-port} for every frame; otherwise, in a
 * pcapng, the port named like the frame's capture interface; otherwise the first port.
 */
public final class InterfacePorts
{
    private final DataplaneConfig config;
    private final int explicitPort;
    private final List<Integer> byInterface = new ArrayList<>();

    /** @param explicitPort the {@code --in-port} index, or -1. */
    public InterfacePorts(final DataplaneConfig config, final int explicitPort)
    {
        this.config = config;
        this.explicitPort = explicitPort;
    }

    /** The port of a frame captured on pcapng interface {@code id} (0 for pcap). */
    public int port(final PcapReader reader, final int id)
    {
        if (explicitPort >= 0)
        {
            return explicitPort;
        }
        while (byInterface.size() <= id)
        {
            final int next = byInterface.size();
            final List<String> names = reader.interfaceNames();
            final int port = next < names.size() ? config.portIndex(names.get(next)) : -1;
            byInterface.add(port < 0 ? 0 : port);
        }
        return byInterface.get(id);
    }
}
