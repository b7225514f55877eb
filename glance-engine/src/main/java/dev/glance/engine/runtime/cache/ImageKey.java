package dev.glance.engine.runtime.cache;

import dev.glance.engine.image.RgbImage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The identity of an image for caching: a SHA-256 of its decoded pixels and size, and of the
 * preprocessing settings that turn it into patches. Two files that decode to the same pixels
 * share an entry; the same pixels preprocessed differently do not.
 */
public record ImageKey(String pixelHash, String preprocessing) {

  public static ImageKey of(RgbImage image, String preprocessing) {
    return new ImageKey(pixelHash(image), preprocessing);
  }

  /** Hex SHA-256 over width, height and the RGB bytes. */
  public static String pixelHash(RgbImage image) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update((image.width() + "x" + image.height() + ":").getBytes(StandardCharsets.US_ASCII));
      md.update(image.rgb());
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
