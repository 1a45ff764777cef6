package io.edgeplane.control.replay;

import io.edgeplane.counters.DataplaneCounters;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a replay produced: counters, the files written (port name or "drops" to path) and the trace text.
 */
public record ReplayResult(long packets, DataplaneCounters.Snapshot counters, Map<String, Path> files,
    String trace, long elapsedNanos)
{
}
