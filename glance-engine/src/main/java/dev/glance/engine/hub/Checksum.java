package dev.glance.engine.hub;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a downloaded file's content must hash to, from the hub's metadata: the SHA-256 of an LFS
 * file (the weights, large tokenizers), or the git blob id of a small file kept in git (SHA-1 over
 * {@code "blob <size>\0"} and the content). Hashing runs while the bytes arrive.
 */
public sealed interface Checksum {

  /** Lower-case hex digest the content must have. */
  String hex();

  /** A digest primed for content of {@code size} bytes. */
  MessageDigest begin(long size);

  /** Name for messages, e.g. "SHA-256". */
  String algorithm();

  /** True when {@code digest} (fed the whole content after {@link #begin}) matches. */
  default boolean matches(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest()).equals(hex());
  }

  /** SHA-256 of the content: what the hub records for LFS files. */
  record Sha256(String hex) implements Checksum {
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public Sha256 {
      hex = hex.toLowerCase(Locale.ROOT);
      if (!HEX64.matcher(hex).matches()) {
        throw new IllegalArgumentException("not a SHA-256 hex digest: " + hex);
      }
    }

    /** The digest if {@code text} is 64 hex digits (as an LFS file's ETag is). */
    public static Optional<Checksum> parse(String text) {
      String t = text.toLowerCase(Locale.ROOT);
      return HEX64.matcher(t).matches() ? Optional.of(new Sha256(t)) : Optional.empty();
    }

    @Override
    public MessageDigest begin(long size) {
      return digest("SHA-256");
    }

    @Override
    public String algorithm() {
      return "SHA-256";
    }
  }

  /** Git's blob id: SHA-1 of {@code "blob <size>\0" + content}, the hub's id for non-LFS files. */
  record GitBlobSha1(String hex) implements Checksum {
    private static final Pattern HEX40 = Pattern.compile("[0-9a-f]{40}");

    public GitBlobSha1 {
      hex = hex.toLowerCase(Locale.ROOT);
      if (!HEX40.matcher(hex).matches()) {
        throw new IllegalArgumentException("not a git blob id: " + hex);
      }
    }

    public static Optional<Checksum> parse(String text) {
      String t = text.toLowerCase(Locale.ROOT);
      return HEX40.matcher(t).matches() ? Optional.of(new GitBlobSha1(t)) : Optional.empty();
    }

    @Override
    public MessageDigest begin(long size) {
      MessageDigest d = digest("SHA-1");
      d.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
      return d;
    }

    @Override
    public String algorithm() {
      return "git blob SHA-1";
    }
  }

  private static MessageDigest digest(String name) {
    try {
      return MessageDigest.getInstance(name);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(name + " is required of every Java runtime", e);
    }
  }
}
