package io.edgeplane.control.kubernetes;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The mock API server as a process of its own (for tests whose gateway runs in a network namespace, where the
 * test's loopback is not reachable): {@code MockApiServerMain DIR} starts it on the namespace's loopback, writes a
 * kubeconfig naming it to {@code DIR/kubeconfig}, prints {@code mock api URL} and serves until stdin closes; a
 * line {@code stop} on stdin takes it away (connections refused), {@code start} brings it back on the same port with
 * the same objects (answered {@code stopped} / {@code started}). Objects are created with plain HTTP, as kubectl
 * would.
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
            final java.io.BufferedReader commands = new java.io.BufferedReader(new java.io.InputStreamReader(
                System.in, java.nio.charset.StandardCharsets.UTF_8));
            String command;
            while ((command = commands.readLine()) != null)
            {
                if (command.equals("stop"))
                {
                    cluster.stop();
                    System.out.println("stopped");
                }
                else if (command.equals("start"))
                {
                    cluster.restart();
                    System.out.println("started");
                }
                System.out.flush();
            }
        }
    }
}
