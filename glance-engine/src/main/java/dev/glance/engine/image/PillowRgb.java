package dev.glance.engine.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Converts a decoded {@link BufferedImage} to 8-bit RGB the way the Hugging Face reference does:
 * Pillow's {@code convert("RGBA")}, then {@code Image.alpha_composite} over opaque white, then
 * {@code convert("RGB")} (transformers' {@code convert_to_rgb}).
 *
 * <p>Stored sample values are used as they are, ignoring any embedded ICC profile or gamma, as
 * Pillow does; Java's own {@code getRGB} would instead colour-manage gray images (a linear-gray
 * trap) and ICC-tagged ones, so it is only the fallback for unusual colour models (CMYK).
 * Pillow's 16-bit rules are reproduced: 16-bit RGB(A) and gray+alpha keep the high byte, while
 * 16-bit gray without alpha (Pillow mode {@code I;16}) is clipped to 255, not scaled.
 */
final class PillowRgb {

  private PillowRgb() {}

  static RgbImage convert(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    byte[] out = new byte[w * h * 3];
    ColorModel cm = img.getColorModel();
    Raster raster = img.getRaster();
    if (cm instanceof IndexColorModel icm) {
      fromPalette(raster, icm, w, h, out);
    } else if (cm instanceof ComponentColorModel && !cm.isAlphaPremultiplied()
        && isGrayOrRgb(cm) && isByteOrShort(raster) && raster.getNumBands() == cm.getNumComponents()) {
      fromComponents(raster, cm, w, h, out);
    } else {
      fromArgb(img, w, h, out);
    }
    return new RgbImage(w, h, out);
  }

  private static boolean isGrayOrRgb(ColorModel cm) {
    int type = cm.getColorSpace().getType();
    int n = cm.getNumColorComponents();
    return (type == ColorSpace.TYPE_GRAY && n == 1) || (type == ColorSpace.TYPE_RGB && n == 3);
  }

  private static boolean isByteOrShort(Raster raster) {
    int t = raster.getTransferType();
    return t == DataBuffer.TYPE_BYTE || t == DataBuffer.TYPE_USHORT;
  }

  private static void fromPalette(Raster raster, IndexColorModel icm, int w, int h, byte[] out) {
    int size = icm.getMapSize();
    int[] argb = new int[size];
    icm.getRGBs(argb);
    int[] row = new int[w];
    int o = 0;
    for (int y = 0; y < h; y++) {
      raster.getSamples(0, y, w, 1, 0, row);
      for (int x = 0; x < w; x++) {
        // An index past the palette is black in Pillow (its palettes are zero-filled to 256).
        int c = row[x] < size ? argb[row[x]] : 0xFF000000;
        o = putComposited(out, o, c >>> 16 & 0xFF, c >>> 8 & 0xFF, c & 0xFF, c >>> 24);
      }
    }
  }

  private static void fromComponents(Raster raster, ColorModel cm, int w, int h, byte[] out) {
    int bands = raster.getNumBands();
    boolean gray = cm.getNumColorComponents() == 1;
    boolean alpha = cm.hasAlpha();
    boolean sixteen = cm.getComponentSize(0) > 8;
    int[] row = new int[w * bands];
    int o = 0;
    for (int y = 0; y < h; y++) {
      raster.getPixels(0, y, w, 1, row);
      if (sixteen) {
        for (int i = 0; i < row.length; i++) {
          // Pillow: "I;16" (gray, no alpha) converts by clipping; RGB;16B and LA;16B keep the MSB.
          row[i] = gray && !alpha ? Math.min(row[i], 255) : row[i] >>> 8;
        }
      }
      for (int x = 0, i = 0; x < w; x++, i += bands) {
        int r;
        int g;
        int b;
        if (gray) {
          r = g = b = row[i];
        } else {
          r = row[i];
          g = row[i + 1];
          b = row[i + 2];
        }
        if (alpha) {
          o = putComposited(out, o, r, g, b, row[i + bands - 1]);
        } else {
          out[o++] = (byte) r;
          out[o++] = (byte) g;
          out[o++] = (byte) b;
        }
      }
    }
  }

  private static void fromArgb(BufferedImage img, int w, int h, byte[] out) {
    int[] row = new int[w];
    int o = 0;
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int c = row[x];
        o = putComposited(out, o, c >>> 16 & 0xFF, c >>> 8 & 0xFF, c & 0xFF, c >>> 24);
      }
    }
  }

  private static int putComposited(byte[] out, int o, int r, int g, int b, int a) {
    out[o] = (byte) overWhite(r, a);
    out[o + 1] = (byte) overWhite(g, a);
    out[o + 2] = (byte) overWhite(b, a);
    return o + 3;
  }

  /**
   * Pillow's {@code ImagingAlphaComposite} integer arithmetic for one channel of a source pixel
   * with alpha {@code a} over an opaque white destination (7 extra precision bits, divisions by
   * 255 done as shifts). Verified equal to Pillow 12 for all 256x256 (value, alpha) pairs.
   */
  static int overWhite(int v, int a) {
    if (a == 255) {
      return v;
    }
    if (a == 0) {
      return 255;
    }
    int blend = 255 * (255 - a);
    int outA255 = a * 255 + blend;
    int coef1 = a * 255 * 255 * 128 / outA255;
    int coef2 = 255 * 128 - coef1;
    int t = v * coef1 + 255 * coef2 + (0x80 << 7);
    return (((t >>> 8) + t) >>> 8) >>> 7;
  }
}
