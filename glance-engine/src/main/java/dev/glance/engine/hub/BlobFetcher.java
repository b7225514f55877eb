package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import dev.glance.engine.GlanceException.Download.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Brings one file of a repository into the cache's blobs, whole and verified: downloads into
 * {@code blobs/{etag}.incomplete}, resumes it with a Range request after a dropped or stalled
 * connection (retrying with backoff while bytes keep coming), hashes the content as it is written,
 * and renames it to {@code blobs/{etag}} only when its size and checksum match the hub's metadata.
 * A file that fails verification is deleted and fetched once more from scratch; failing again is an
 * error, and nothing unverified ever reaches the blob name. A lock file keeps two processes from
 * writing the same blob.
 */
final class BlobFetcher {
  private static final int READ_CHUNK = 1 << 20;
  private static final long LOCK_RETRY_MS = 200;

  private final HubClient client;
  private final HfCacheLayout layout;
  private final DownloadProgress progress;

  BlobFetcher(HubClient client, HfCacheLayout layout, DownloadProgress progress) {
    this.client = client;
    this.layout = layout;
    this.progress = progress;
  }

  /** A file in the blobs: its id (the ETag), size, and the bytes this call downloaded. */
  record Fetched(String blobId, long size, long downloaded) {}

  Fetched fetch(HubRepo repo, String commit, RepoFile listed) throws InterruptedException {
    int failures = 0;
    while (true) {
      try {
        return fetch(repo, commit, listed, client.metadata(repo, commit, listed.path()));
      } catch (IOException e) {
        failures = retryOrFail(listed.path(), e, ++failures);
      }
    }
  }

  private Fetched fetch(HubRepo repo, String commit, RepoFile listed, FileMetadata meta)
      throws InterruptedException {
    String blobId = meta.etag();
    long size = expectedSize(repo, listed, meta);
    // The listing's checksum, else the ETag itself when it is a SHA-256 (an LFS file's is).
    Optional<Checksum> checksum = listed.checksum().or(() -> Checksum.Sha256.parse(blobId))
        .filter(c -> size >= 0 || c instanceof Checksum.Sha256); // a git blob id hashes the size too
    Path blob = layout.blob(repo, blobId);
    if (Files.isRegularFile(blob)) {
      return new Fetched(blobId, size, 0);
    }
    Path lockFile = layout.lockFile(repo, blobId);
    try {
      Files.createDirectories(lockFile.getParent());
      Files.createDirectories(blob.getParent());
    } catch (IOException e) {
      throw HfCacheLayout.storageFailure(e, blob.getParent());
    }
    try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock _ = acquire(lockChannel)) {
      if (Files.isRegularFile(blob)) {
        return new Fetched(blobId, size, 0); // another process finished it while we waited
      }
      return download(repo, commit, listed, meta, blob, size, checksum);
    } catch (IOException e) {
      throw HfCacheLayout.storageFailure(e, blob.getParent());
    }
  }

  private Fetched download(HubRepo repo, String commit, RepoFile listed, FileMetadata first, Path blob,
      long size, Optional<Checksum> checksum) throws InterruptedException, IOException {
    String path = listed.path();
    Path partial = layout.incomplete(repo, first.etag());
    FileMetadata meta = first;
    long downloaded = 0;
    int failures = 0;
    boolean refetched = false;
    progress.fileStarted(path, size);
    while (true) {
      long have = Files.exists(partial) ? Files.size(partial) : 0;
      if (size >= 0 && have > size) {
        Files.delete(partial);
        progress.transferred(-have);
        have = 0;
      }
      Checksum sum = checksum.orElse(null);
      MessageDigest digest = primedDigest(partial, have, sum, size);
      if (size < 0 || have < size) {
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          ch.position(have);
          ChannelSink sink = new ChannelSink(partial, ch, digest, () -> begin(sum, size), size,
              progress::transferred);
          long before = have;
          IOException failure = null;
          try {
            if (meta == null) {
              meta = client.metadata(repo, commit, path); // a fresh CDN address after a failure
            }
            client.fetch(meta.location(), have, sink, repo, path);
          } catch (IOException e) {
            failure = e;
          }
          downloaded += Math.max(0, sink.position() - before);
          if (failure == null && size >= 0 && sink.position() < size) {
            failure = new IOException("the body ended after " + sink.position() + " of " + size + " bytes");
          }
          if (failure instanceof HubClient.RangeNotSatisfiable) {
            Files.deleteIfExists(partial); // not a prefix of this file after all: start over
            progress.transferred(-before);
          }
          if (failure != null) {
            failures = retryOrFail(path, failure, sink.position() > before ? 1 : failures + 1);
            meta = null;
            continue;
          }
          digest = sink.digest();
        }
      }
      long got = Files.size(partial);
      if (sum != null && !sum.matches(digest)) {
        Files.delete(partial);
        progress.transferred(-got);
        if (refetched) {
          throw new GlanceException.Download(Reason.CORRUPT, path + " of " + repo + " failed "
              + sum.algorithm() + " verification again after a fresh download; the hub, the mirror or a"
              + " proxy in between is serving a damaged file");
        }
        refetched = true;
        progress.note(path + " failed " + sum.algorithm() + " verification; deleted, fetching it again");
        continue;
      }
      HfCacheLayout.moveReplacing(partial, blob);
      progress.fileDone(path, got);
      return new Fetched(first.etag(), got, downloaded);
    }
  }

  /** Counts a failure and waits before the next try; throws when the tries are used up. */
  private int retryOrFail(String path, IOException e, int failures) throws InterruptedException {
    if (failures >= client.settings().retry().attempts()) {
      GlanceException.Download d = client.unreachable(e);
      throw new GlanceException.Download(Reason.UNREACHABLE,
          d.getMessage() + " (gave up on " + path + " after " + failures + " tries)", e);
    }
    var wait = client.backoff(e, failures);
    progress.retrying(path, failures, wait, HubClient.describe(e));
    Thread.sleep(wait.toMillis());
    return failures;
  }

  /** The size to expect: the listing's and the resolve answer's must agree where both exist. */
  private static long expectedSize(HubRepo repo, RepoFile listed, FileMetadata meta) {
    if (listed.size() >= 0 && meta.size() >= 0 && listed.size() != meta.size()) {
      throw new GlanceException.Download(Reason.PROTOCOL, listed.path() + " of " + repo + ": the hub lists "
          + listed.size() + " bytes but serves " + meta.size());
    }
    return listed.size() >= 0 ? listed.size() : meta.size();
  }

  /** A digest already fed the partial file's bytes, so a resumed download is hashed in full. */
  private static MessageDigest primedDigest(Path partial, long have, Checksum sum, long size) throws IOException {
    MessageDigest d = begin(sum, size);
    if (have == 0) {
      return d;
    }
    ByteBuffer buf = ByteBuffer.allocate(READ_CHUNK);
    try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.READ)) {
      long left = have;
      while (left > 0) {
        buf.clear().limit((int) Math.min(buf.capacity(), left));
        int n = ch.read(buf);
        if (n < 0) {
          break;
        }
        buf.flip();
        d.update(buf);
        left -= n;
      }
    }
    return d;
  }

  private static MessageDigest begin(Checksum sum, long size) {
    // Without a checksum the digest is computed and ignored: one code path for both cases.
    return sum != null ? sum.begin(size) : new Checksum.Sha256("0".repeat(64)).begin(size);
  }

  private static FileLock acquire(FileChannel channel) throws IOException, InterruptedException {
    while (true) {
      try {
        return channel.lock();
      } catch (OverlappingFileLockException e) {
        // Held by another thread of this process (two pulls of the same model at once): wait.
        Thread.sleep(LOCK_RETRY_MS);
      }
    }
  }
}
