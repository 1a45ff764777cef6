package io.edgeplane.config;

/**
 * What validating a route or neighbor needs to know about the ports: the live {@code PortTable} and the ports of a
 * config file being loaded both answer it, so the config file and the API run the same checks.
 */
public interface PortView
{
    /** @return the port id with that name, or -1. */
    int indexOf(String name);

    String name(int port);

    int address(int port);

    int prefixLength(int port);

    /** True when {@code ip} is inside the port's connected subnet. */
    boolean onLink(int port, int ip);

    /** @return the first port holding {@code ip} as one of its addresses, or -1. */
    int ownerOf(int ip);

    /** True for a tunnel (vxlan) port. */
    boolean isTunnel(int port);

    /** A view over the ports of a config being loaded. */
    static PortView of(final java.util.List<PortConfig> ports)
    {
        return new PortView()
        {
            @Override
            public int indexOf(final String name)
            {
                for (int i = 0; i < ports.size(); i++)
                {
                    if (ports.get(i).name().equals(name))
                    {
                        return i;
                    }
                }
                return -1;
            }

            @Override
            public String name(final int port)
            {
                return ports.get(port).name();
            }

            @Override
            public int address(final int port)
            {
                return ports.get(port).address();
            }

            @Override
            public int prefixLength(final int port)
            {
                return ports.get(port).prefixLength();
            }

            @Override
            public boolean onLink(final int port, final int ip)
            {
                final int mask = io.edgeplane.proto.Ipv4Address.mask(prefixLength(port));
                return (ip & mask) == (address(port) & mask);
            }

            @Override
            public boolean isTunnel(final int port)
            {
                return ports.get(port).isTunnel();
            }

            @Override
            public int ownerOf(final int ip)
            {
                for (int i = 0; i < ports.size(); i++)
                {
                    if (ports.get(i).address() == ip || ports.get(i).addresses().contains(ip))
                    {
                        return i;
                    }
                }
                return -1;
            }
        };
    }
}
