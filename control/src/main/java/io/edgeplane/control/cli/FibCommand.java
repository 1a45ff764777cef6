package io.edgeplane.control.cli;

import io.edgeplane.config.ConfigException;
import io.edgeplane.config.ConfigLoader;
import io.edgeplane.config.DataplaneConfig;
import io.edgeplane.config.TextFiles;
import io.edgeplane.port.PortTable;
import io.edgeplane.proto.Ipv4Address;
import io.edgeplane.route.FibTables;
import io.edgeplane.route.RouteException;
import io.edgeplane.route.RouteFile;
import io.edgeplane.route.RoutingTable;
import io.edgeplane.stage.Dataplane;
import io.edgeplane.stage.FlowHash;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "fib", description = "Offline FIB tools.", subcommands = FibCommand.Lookup.class)
public final class FibCommand extends ControlCommands.VerbGroup
{
    @Command(name = "lookup", description = "Look up addresses in a route file: prints 'address nexthop' per key " +
        "('-' no route, 'local' an address of the gateway, the address itself when directly connected).")
    static final class Lookup implements Callable<Integer>
    {
        @Option(names = "--routes", required = true, description = "route file: 'prefix/len nexthop [metric]' lines")
        Path routes;

        @Option(names = "--keys", required = true, description = "one IPv4 address per line")
        Path keys;

        @Option(names = "--config", description = "config whose ports give connected routes and interfaces")
        Path config;

        @Override
        public Integer call()
        {
            final RoutingTable table = load();
            final FibTables fib = table.tables();
            final OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
            final StringBuilder line = new StringBuilder(40);
            try (TextFiles.Lines reader = open(keys))
            {
                String text;
                while ((text = reader.next()) != null)
                {
                    final int number = reader.number();
                    final String key = text.trim();
                    if (key.isEmpty() || key.startsWith("#"))
                    {
                        continue;
                    }
                    final int address;
                    try
                    {
                        address = Ipv4Address.parse(key);
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        out.flush();
                        throw new Main.UserError(keys + ":" + number + ": " + ex.getMessage());
                    }
                    line.setLength(0);
                    Ipv4Address.append(line, address).append(' ');
                    final int group = fib.lookup(address);
                    if (group == FibTables.NO_ROUTE)
                    {
                        line.append('-');
                    }
                    else if (fib.kind(group) == FibTables.KIND_LOCAL)
                    {
                        line.append("local");
                    }
                    else if (fib.kind(group) == FibTables.KIND_BROADCAST)
                    {
                        line.append("broadcast");
                    }
                    else
                    {
                        final int adjacency = fib.adjacency(group, FlowHash.hash(0, 0, address, 0, 0));
                        final int gateway = fib.adjacencyNextHop(adjacency);
                        Ipv4Address.append(line, gateway == 0 ? address : gateway);
                    }
                    line.append('\n');
                    for (int i = 0; i < line.length(); i++)
                    {
                        out.write(line.charAt(i));
                    }
                }
                out.flush();
            }
            catch (final TextFiles.TooLongException ex)
            {
                throw new Main.UserError(keys + ": " + ex.getMessage() + ", not a list of addresses");
            }
            catch (final java.nio.charset.CharacterCodingException ex)
            {
                throw new Main.UserError(keys + ": not UTF-8 text");
            }
            catch (final IOException ex)
            {
                throw new Main.UserError(keys + ": cannot read (" + ex.getMessage() + ")");
            }
            return 0;
        }

        private RoutingTable load()
        {
            try
            {
                PortTable ports = null;
                if (config != null)
                {
                    final DataplaneConfig dataplaneConfig = ConfigLoader.load(config);
                    ports = new PortTable(dataplaneConfig.ports());
                }
                final RouteFile.Loaded loaded = RouteFile.read(routes, ports);
                final RoutingTable table = new RoutingTable(ports, Math.max(Dataplane.MAX_ROUTES,
                    loaded.routes().size()), Dataplane.MAX_TBL8_BLOCKS);
                table.addAll(loaded.routes(), loaded.ports());
                return table;
            }
            catch (final ConfigException | RouteException ex)
            {
                throw new Main.UserError(ex.getMessage());
            }
        }

        private static TextFiles.Lines open(final Path path)
        {
            try
            {
                return TextFiles.lines(path, RouteFile.MAX_LINE);
            }
            catch (final NoSuchFileException ex)
            {
                throw new Main.UserError(path + ": no such file");
            }
            catch (final IOException ex)
            {
                throw new Main.UserError(path + ": cannot read (" + ex.getMessage() + ")");
            }
        }
    }
}
