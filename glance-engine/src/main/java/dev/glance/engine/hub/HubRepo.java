package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A model repository on the hub and the revision wanted: {@code ORG/NAME} with a branch, tag or
 * commit ({@code main} by default), written {@code ORG/NAME@REVISION} on the command line.
 *
 * @param id {@code ORG/NAME}
 * @param revision branch, tag or 40-hex commit
 */
public record HubRepo(String id, String revision) {

  public static final String DEFAULT_REVISION = "main";
  // The hub's rules for names: letters, digits, '-', '_', '.', not starting or ending with '-' or
  // '.', no "--" or ".." (the cache layout uses "--" as the separator), at most 96 characters.
  private static final Pattern PART = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?");
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

  public HubRepo {
    if (!isRepoId(id)) {
      throw new GlanceException.BadRequest("'" + id + "' is not a Hugging Face repository id (ORG/NAME)");
    }
    if (revision.isBlank() || revision.contains("..") || revision.startsWith("/") || revision.endsWith("/")
        || revision.chars().anyMatch(c -> c < 0x21 || c == '\\')) {
      throw new GlanceException.BadRequest("'" + revision + "' is not a valid revision of " + id);
    }
  }

  /** Parses {@code ORG/NAME} or {@code ORG/NAME@REVISION}; empty if the text is not of that form. */
  public static Optional<HubRepo> parse(String text) {
    int at = text.indexOf('@');
    String id = at < 0 ? text : text.substring(0, at);
    String rev = at < 0 ? DEFAULT_REVISION : text.substring(at + 1);
    if (!isRepoId(id) || rev.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new HubRepo(id, rev));
  }

  /** True for {@code ORG/NAME} as the hub spells repository ids. */
  public static boolean isRepoId(String text) {
    int slash = text.indexOf('/');
    if (slash < 0 || slash != text.lastIndexOf('/')) {
      return false;
    }
    String org = text.substring(0, slash);
    String name = text.substring(slash + 1);
    return valid(org) && valid(name);
  }

  private static boolean valid(String part) {
    return PART.matcher(part).matches() && !part.contains("--") && !part.contains("..");
  }

  public HubRepo withRevision(String rev) {
    return new HubRepo(id, rev);
  }

  /** True when the revision is a full commit hash (immutable, so no ref is recorded for it). */
  public boolean revisionIsCommit() {
    return COMMIT.matcher(revision).matches();
  }

  /** The repository's folder in the cache: {@code models--ORG--NAME}. */
  public String folderName() {
    return "models--" + id.replace("/", "--");
  }

  @Override
  public String toString() {
    return revision.equals(DEFAULT_REVISION) ? id : id + "@" + revision;
  }
}
