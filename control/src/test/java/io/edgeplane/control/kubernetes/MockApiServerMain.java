package io.edgeplane.control.kubernetes;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The mock API server as a process of its own (for tests whose gateway runs in a network namespace, where the
 * test's loopback is not reachable): {@code MockApiServerMain DIR} starts it on the namespace's loopback, writes a
 * kubeconfig naming it to {@code DIR/kubeconfig}, prints {@code mock api URL} and serves until stdin closes.
 * Objects are created with plain HTTP, as kubectl would.
 */
public final class MockApiServerMain
{
    private MockApiServerMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        try (MockCluster cluster = new MockCluster())
        {
            cluster.kubeconfig(Files.createDirectories(Path.of(args[0])));
            System.out.println("mock api " + cluster.url());
            System.out.flush();
            while (System.in.read() >= 0)
            {
                // serve until the test closes our stdin (or kills us)
            }
        }
    }
}
