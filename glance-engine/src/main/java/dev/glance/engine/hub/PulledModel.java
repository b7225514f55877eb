package dev.glance.engine.hub;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of a pull: the snapshot directory the engine loads, and what it took.
 *
 * @param repo the repository and the revision asked for
 * @param commit the commit the revision resolved to
 * @param dir the snapshot directory ({@code snapshots/{commit}})
 * @param files the files placed in it
 * @param totalBytes their size
 * @param downloadedBytes bytes fetched over the network (0 when everything was cached)
 * @param elapsed wall time
 */
public record PulledModel(HubRepo repo, String commit, Path dir, List<String> files, long totalBytes,
    long downloadedBytes, Duration elapsed) {
  public PulledModel {
    files = List.copyOf(files);
  }
}
