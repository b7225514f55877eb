package dev.glance.engine.hub;

import java.util.Optional;

/**
 * One file of a repository revision as the hub lists it.
 *
 * @param path path inside the repository
 * @param size bytes, or -1 where the hub did not say
 * @param checksum what the content must hash to, where the hub said
 */
public record RepoFile(String path, long size, Optional<Checksum> checksum) {}
