package dev.glance.engine.hub;

import java.net.URI;

/**
 * What the hub's resolve URL says about one file, from a HEAD request: the commit it was served
 * from, the ETag that names its blob in the cache (sha256 for LFS files, the git blob id
 * otherwise), its size, and where its bytes are (the resolve URL itself, or the CDN address the hub
 * redirects to).
 *
 * @param commit the commit the hub resolved the revision to ({@code X-Repo-Commit})
 * @param etag normalised {@code X-Linked-Etag} or {@code ETag}
 * @param size {@code X-Linked-Size} or {@code Content-Length}; -1 where absent
 * @param location where to GET the content
 */
public record FileMetadata(String commit, String etag, long size, URI location) {}
