package dev.glance.engine.image;

/**
 * An 8-bit RGB image: {@code rgb} holds {@code width * height * 3} bytes, row-major, interleaved
 * R, G, B. This is the common currency between decoding, resizing and normalisation.
 *
 * <p>The array is shared, not copied: images are large and every stage produces a fresh one, so
 * callers must not modify an array after handing it over.
 */
public record RgbImage(int width, int height, byte[] rgb) {

  public RgbImage {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
    }
    if (rgb == null || rgb.length != (long) width * height * 3) {
      throw new IllegalArgumentException("expected " + (long) width * height * 3
          + " RGB bytes for " + width + "x" + height + ", got "
          + (rgb == null ? "null" : rgb.length));
    }
  }

  /** Channel {@code c} (0 = R, 1 = G, 2 = B) of the pixel at column {@code x}, row {@code y}. */
  public int get(int x, int y, int c) {
    return rgb[(y * width + x) * 3 + c] & 0xFF;
  }

  @Override
  public String toString() {
    return "RgbImage[" + width + "x" + height + "]";
  }
}
