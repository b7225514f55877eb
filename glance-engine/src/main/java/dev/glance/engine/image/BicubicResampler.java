package dev.glance.engine.image;

/**
 * Pillow's {@code Image.resize(size, BICUBIC)} on 8-bit RGB, bit for bit (spec section 2.3;
 * Pillow {@code libImaging/Resample.c}): a separable, antialiasing Keys cubic (a = -0.5) whose
 * support widens by the downscale factor; coefficients normalised in double and rounded to 22-bit
 * fixed point; a horizontal pass, then a vertical pass, each rounding and clipping back to 8 bits.
 * An axis whose size does not change is not resampled, as in Pillow.
 *
 * <p>Speed comes from precomputing each output index's tap window and integer weights once per
 * axis, and from the vertical pass walking source rows contiguously into one accumulator row.
 */
public final class BicubicResampler {

  static final int PRECISION_BITS = 32 - 8 - 2;
  private static final double SUPPORT = 2.0;

  private BicubicResampler() {}

  /** {@code in} resized to {@code outWidth} x {@code outHeight}. */
  public static RgbImage resize(RgbImage in, int outWidth, int outHeight) {
    if (outWidth <= 0 || outHeight <= 0) {
      throw new IllegalArgumentException("target size must be positive: " + outWidth + "x" + outHeight);
    }
    boolean horizontal = outWidth != in.width();
    boolean vertical = outHeight != in.height();
    if (!horizontal && !vertical) {
      return new RgbImage(in.width(), in.height(), in.rgb().clone());
    }
    Coefficients vert = Coefficients.of(in.height(), outHeight);
    RgbImage current = in;
    int rowOffset = 0;
    if (horizontal) {
      // Only the source rows some output row reads are resampled horizontally, as in Pillow.
      int first = vert.start[0];
      int last = vert.start[outHeight - 1] + vert.count[outHeight - 1];
      if (!vertical) {
        first = 0;
        last = in.height();
      }
      current = horizontalPass(in, Coefficients.of(in.width(), outWidth), first, last);
      rowOffset = first;
    }
    if (vertical) {
      current = verticalPass(current, vert, rowOffset, outHeight);
    }
    return current;
  }

  /** The Keys cubic convolution kernel with a = -0.5, written as in Pillow. */
  static double bicubicFilter(double x) {
    final double a = -0.5;
    if (x < 0.0) {
      x = -x;
    }
    if (x < 1.0) {
      return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
  }

  /** Pillow's {@code clip8}: an accumulator with 22 fraction bits to a byte. */
  static int clip8(int acc) {
    if (acc >= 1 << PRECISION_BITS << 8) {
      return 255;
    }
    if (acc <= 0) {
      return 0;
    }
    return acc >> PRECISION_BITS;
  }

  private static RgbImage horizontalPass(RgbImage in, Coefficients c, int firstRow, int lastRow) {
    int inW = in.width();
    int outW = c.start.length;
    int rows = lastRow - firstRow;
    byte[] src = in.rgb();
    byte[] out = new byte[outW * rows * 3];
    int ksize = c.ksize;
    int[] kk = c.weights;
    int half = 1 << (PRECISION_BITS - 1);
    for (int y = 0; y < rows; y++) {
      int rowBase = (y + firstRow) * inW * 3;
      int o = y * outW * 3;
      for (int x = 0; x < outW; x++) {
        int start = c.start[x];
        int count = c.count[x];
        int k = x * ksize;
        int s0 = half;
        int s1 = half;
        int s2 = half;
        int p = rowBase + start * 3;
        for (int t = 0; t < count; t++, p += 3) {
          int w = kk[k + t];
          s0 += (src[p] & 0xFF) * w;
          s1 += (src[p + 1] & 0xFF) * w;
          s2 += (src[p + 2] & 0xFF) * w;
        }
        out[o++] = (byte) clip8(s0);
        out[o++] = (byte) clip8(s1);
        out[o++] = (byte) clip8(s2);
      }
    }
    return new RgbImage(outW, rows, out);
  }

  private static RgbImage verticalPass(RgbImage in, Coefficients c, int rowOffset, int outH) {
    int rowLen = in.width() * 3;
    byte[] src = in.rgb();
    byte[] out = new byte[rowLen * outH];
    int[] acc = new int[rowLen];
    int half = 1 << (PRECISION_BITS - 1);
    for (int y = 0; y < outH; y++) {
      java.util.Arrays.fill(acc, half);
      int start = c.start[y] - rowOffset;
      int k = y * c.ksize;
      for (int t = 0; t < c.count[y]; t++) {
        int w = c.weights[k + t];
        int p = (start + t) * rowLen;
        // Summation order per pixel equals Pillow's (taps in order); integer sums are exact.
        for (int i = 0; i < rowLen; i++) {
          acc[i] += (src[p + i] & 0xFF) * w;
        }
      }
      int o = y * rowLen;
      for (int i = 0; i < rowLen; i++) {
        out[o + i] = (byte) clip8(acc[i]);
      }
    }
    return new RgbImage(in.width(), outH, out);
  }

  /**
   * Pillow's {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for one axis: for output
   * index i, taps {@code start[i] .. start[i] + count[i] - 1} with fixed-point weights
   * {@code weights[i * ksize + t]}.
   */
  record Coefficients(int ksize, int[] start, int[] count, int[] weights) {

    static Coefficients of(int inSize, int outSize) {
      // Pillow computes (in1 - in0) in float for the default box (0, 0, in): exact for any
      // realistic size, so the scale is simply in/out in double.
      double scale = (double) (float) inSize / outSize;
      double filterscale = Math.max(scale, 1.0);
      double support = SUPPORT * filterscale;
      int ksize = (int) Math.ceil(support) * 2 + 1;
      int[] start = new int[outSize];
      int[] count = new int[outSize];
      int[] weights = new int[outSize * ksize];
      double[] k = new double[ksize];
      double ss = 1.0 / filterscale;
      for (int xx = 0; xx < outSize; xx++) {
        double center = (xx + 0.5) * scale;
        int xmin = (int) (center - support + 0.5);
        if (xmin < 0) {
          xmin = 0;
        }
        int xmax = (int) (center + support + 0.5);
        if (xmax > inSize) {
          xmax = inSize;
        }
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
          double w = bicubicFilter((x + xmin - center + 0.5) * ss);
          k[x] = w;
          ww += w;
        }
        for (int x = 0; x < xmax; x++) {
          double w = ww != 0.0 ? k[x] / ww : k[x];
          // Round half away from zero, as C's (int)(x +/- 0.5).
          weights[xx * ksize + x] = w < 0
              ? (int) (-0.5 + w * (1 << PRECISION_BITS))
              : (int) (0.5 + w * (1 << PRECISION_BITS));
        }
        start[xx] = xmin;
        count[xx] = xmax;
      }
      return new Coefficients(ksize, start, count, weights);
    }
  }
}
