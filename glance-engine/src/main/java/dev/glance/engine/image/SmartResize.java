package dev.glance.engine.image;

import dev.glance.engine.GlanceException;

/**
 * The target size of an image for the vision tower: transformers' {@code smart_resize} for GLM-4V
 * (spec section 2.2). Both sides become multiples of {@code factor} (patch size times merge
 * size), the aspect ratio is kept as well as possible, and the pixel count, counted with the
 * temporal duplication, is brought into {@code [minPixels, maxPixels]}.
 *
 * <p>Reproduced to the bit: float64 arithmetic in the reference's operation order, Python's
 * round-half-to-even ({@link Math#rint}), and the transformers 5 rule that first scales up images
 * with a side below {@code factor} instead of refusing them.
 */
public final class SmartResize {

  /** Images more elongated than this are refused, as by the reference. */
  public static final double MAX_ASPECT_RATIO = 200;

  /** A target size in pixels. */
  public record Size(int height, int width) {}

  private SmartResize() {}

  /**
   * The size to resize a {@code height} x {@code width} image to.
   *
   * @param temporal frames the image counts as (temporal_patch_size: the image is duplicated)
   * @throws GlanceException.BadImage if the aspect ratio exceeds {@link #MAX_ASPECT_RATIO}
   */
  public static Size of(int height, int width, int factor, long minPixels, long maxPixels,
      int temporal) {
    if (height <= 0 || width <= 0) {
      throw new GlanceException.BadImage("Image size must be positive, got " + width + "x" + height);
    }
    long h = height;
    long w = width;
    if (h < factor || w < factor) {
      // Python: scale = max(factor / h, factor / w); h, w = int(h * scale), int(w * scale)
      double scale = Math.max((double) factor / h, (double) factor / w);
      h = (long) (h * scale);
      w = (long) (w * scale);
    }
    if ((double) Math.max(h, w) / Math.min(h, w) > MAX_ASPECT_RATIO) {
      throw new GlanceException.BadImage("Image of " + width + "x" + height
          + " has an aspect ratio over " + (int) MAX_ASPECT_RATIO + ":1, which the model refuses");
    }
    long hBar = (long) Math.rint((double) h / factor) * factor;
    long wBar = (long) Math.rint((double) w / factor) * factor;
    // t_bar = round(num_frames / temporal_factor) * temporal_factor with num_frames = temporal.
    long tBar = temporal;
    if (tBar * hBar * wBar > maxPixels) {
      double beta = Math.sqrt((double) (temporal * h * w) / maxPixels);
      hBar = Math.max(factor, (long) Math.floor(h / beta / factor) * factor);
      wBar = Math.max(factor, (long) Math.floor(w / beta / factor) * factor);
    } else if (tBar * hBar * wBar < minPixels) {
      double beta = Math.sqrt(minPixels / (double) (temporal * h * w));
      hBar = (long) Math.ceil(h * beta / factor) * factor;
      wBar = (long) Math.ceil(w * beta / factor) * factor;
    }
    return new Size(Math.toIntExact(hBar), Math.toIntExact(wBar));
  }
}
