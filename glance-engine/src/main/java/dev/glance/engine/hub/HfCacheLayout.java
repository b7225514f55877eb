package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Hugging Face hub cache on disk, laid out as {@code huggingface_hub} lays it out so that
 * checkpoints are shared with other tools:
 *
 * <pre>
 * {cache}/models--ORG--NAME/
 *     blobs/{etag}                 file contents, named by the hub's ETag (sha256 for LFS files,
 *                                  the git blob id otherwise); {etag}.incomplete while downloading
 *     refs/{revision}              the commit a branch or tag pointed to when last pulled
 *     snapshots/{commit}/{file}    relative symlink to ../../blobs/{etag}
 * {cache}/.locks/models--ORG--NAME/{etag}.lock
 * </pre>
 *
 * @param root the cache directory
 */
public record HfCacheLayout(Path root) {

  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  public Path repoDir(HubRepo repo) {
    return root.resolve(repo.folderName());
  }

  public Path blob(HubRepo repo, String blobId) {
    return repoDir(repo).resolve("blobs").resolve(checkedBlobId(blobId));
  }

  /** Where a blob is written while it downloads; resumed from its size after an interruption. */
  public Path incomplete(HubRepo repo, String blobId) {
    return repoDir(repo).resolve("blobs").resolve(checkedBlobId(blobId) + ".incomplete");
  }

  public Path lockFile(HubRepo repo, String blobId) {
    return root.resolve(".locks").resolve(repo.folderName()).resolve(checkedBlobId(blobId) + ".lock");
  }

  public Path snapshot(HubRepo repo, String commit) {
    return repoDir(repo).resolve("snapshots").resolve(checkedBlobId(commit));
  }

  /** A file of a snapshot; {@code relPath} must stay inside the snapshot (no "..", not absolute). */
  public Path snapshotFile(HubRepo repo, String commit, String relPath) {
    return snapshot(repo, commit).resolve(checkedRelativePath(relPath));
  }

  /** The commit the repository's revision resolves to in the cache, if known. */
  public Optional<String> commitFor(HubRepo repo) {
    if (repo.revisionIsCommit()) {
      return Optional.of(repo.revision());
    }
    Path ref = refFile(repo);
    try {
      if (!Files.isRegularFile(ref)) {
        return Optional.empty();
      }
      String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
      return SAFE_NAME.matcher(commit).matches() ? Optional.of(commit) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Records that the revision points at {@code commit} (nothing for a commit revision). */
  public void writeRef(HubRepo repo, String commit) throws IOException {
    if (repo.revisionIsCommit()) {
      return;
    }
    Path ref = refFile(repo);
    Files.createDirectories(ref.getParent());
    Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
    Files.writeString(tmp, commit, StandardCharsets.UTF_8);
    moveReplacing(tmp, ref);
  }

  /**
   * Points {@code snapshots/{commit}/{relPath}} at the blob with a relative symlink, replacing what
   * was there atomically; where the file system has no symlinks the blob is copied instead.
   */
  public Path link(HubRepo repo, String commit, String relPath, String blobId) throws IOException {
    Path target = snapshotFile(repo, commit, relPath);
    Path blob = blob(repo, blobId);
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling(target.getFileName() + ".link-tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createSymbolicLink(tmp, target.getParent().relativize(blob));
    } catch (UnsupportedOperationException | FileSystemException e) {
      Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
    }
    moveReplacing(tmp, target);
    return target;
  }

  private Path refFile(HubRepo repo) {
    return repoDir(repo).resolve("refs").resolve(checkedRelativePath(repo.revision()));
  }

  static void moveReplacing(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * A failure to write the cache as a person should read it: "disk full" when the file system is
   * out of space or quota, else what the system said about which file.
   */
  static GlanceException.Download storageFailure(IOException e, Path where) {
    String m = String.valueOf(e.getMessage());
    String lower = m.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("no space left") || lower.contains("not enough space") || lower.contains("quota")) {
      return new GlanceException.Download(GlanceException.Download.Reason.DISK_FULL,
          "disk full: cannot write " + where + " (" + m + "); free space there or point HF_HUB_CACHE"
              + " at a larger disk", e);
    }
    return new GlanceException.Download(GlanceException.Download.Reason.CACHE,
        "cannot write the model cache at " + where + ": " + m, e);
  }

  /** True for names the hub uses as ETags and commits; anything else is refused as a file name. */
  static boolean isSafeName(String name) {
    return SAFE_NAME.matcher(name).matches() && !name.contains("..");
  }

  private static String checkedBlobId(String id) {
    if (!isSafeName(id)) {
      throw new GlanceException.Download(GlanceException.Download.Reason.PROTOCOL,
          "the hub sent '" + id + "' as a file id or commit, which is not a safe file name");
    }
    return id;
  }

  static String checkedRelativePath(String relPath) {
    Path p = Path.of(relPath);
    boolean ok = !relPath.isEmpty() && !p.isAbsolute() && !relPath.startsWith("/") && !relPath.contains("\\");
    for (Path part : p) {
      String s = part.toString();
      ok &= !s.isEmpty() && !s.equals(".") && !s.equals("..");
    }
    if (!ok) {
      throw new GlanceException.Download(GlanceException.Download.Reason.PROTOCOL,
          "the hub listed '" + relPath + "', which is not a plain path inside the repository");
    }
    return relPath;
  }
}
