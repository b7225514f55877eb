package dev.glance.engine.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Random;
import javax.imageio.ImageIO;

/** Helpers shared by the image tests. */
final class TestImages {

  private TestImages() {}

  static byte[] resource(String name) {
    try (InputStream in = TestImages.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads an 8-bit RGB PNG straight from its raster, independently of {@link ImageDecoder}, so
   * reference images do not go through the code under test.
   */
  static RgbImage readPlainRgbPng(byte[] png) {
    try {
      BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(png));
      Raster r = img.getRaster();
      if (r.getNumBands() != 3 || img.getColorModel().getComponentSize(0) != 8) {
        throw new IllegalStateException("reference PNG is not 8-bit RGB: " + img);
      }
      int[] px = r.getPixels(0, 0, img.getWidth(), img.getHeight(), (int[]) null);
      byte[] rgb = new byte[px.length];
      for (int i = 0; i < px.length; i++) {
        rgb[i] = (byte) px[i];
      }
      return new RgbImage(img.getWidth(), img.getHeight(), rgb);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] encode(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RgbImage random(int width, int height, long seed) {
    byte[] rgb = new byte[width * height * 3];
    new Random(seed).nextBytes(rgb);
    return new RgbImage(width, height, rgb);
  }

  /** Largest absolute difference of any channel value. */
  static int maxDiff(RgbImage a, RgbImage b) {
    if (a.width() != b.width() || a.height() != b.height()) {
      throw new AssertionError("size differs: " + a + " vs " + b);
    }
    int max = 0;
    for (int i = 0; i < a.rgb().length; i++) {
      max = Math.max(max, Math.abs((a.rgb()[i] & 0xFF) - (b.rgb()[i] & 0xFF)));
    }
    return max;
  }

  /** Mean absolute difference over all channel values. */
  static double meanDiff(RgbImage a, RgbImage b) {
    long sum = 0;
    for (int i = 0; i < a.rgb().length; i++) {
      sum += Math.abs((a.rgb()[i] & 0xFF) - (b.rgb()[i] & 0xFF));
    }
    return (double) sum / a.rgb().length;
  }
}
