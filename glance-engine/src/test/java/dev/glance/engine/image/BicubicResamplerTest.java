package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BicubicResamplerTest {

  /**
   * Pillow's algorithm written the plain way: for every output sample, compute the tap window and
   * the double weights from scratch, round them to 22-bit fixed point and accumulate; horizontal
   * pass over all rows, then vertical. No precomputation or loop reordering, so it checks that
   * the optimised resampler's bookkeeping (bounds, row windows, skipped axes) is right.
   */
  static RgbImage reference(RgbImage in, int outW, int outH, boolean fixedPoint) {
    int inW = in.width();
    int inH = in.height();
    int[][] plane = new int[inH][inW * 3];
    for (int y = 0; y < inH; y++) {
      for (int i = 0; i < inW * 3; i++) {
        plane[y][i] = in.rgb()[y * inW * 3 + i] & 0xFF;
      }
    }
    if (outW != inW) {
      int[][] next = new int[inH][outW * 3];
      for (int y = 0; y < inH; y++) {
        for (int x = 0; x < outW; x++) {
          double[] w = weights(inW, outW, x);
          int start = (int) w[w.length - 1];
          for (int c = 0; c < 3; c++) {
            double[] taps = new double[w.length - 1];
            for (int t = 0; t < taps.length; t++) {
              taps[t] = plane[y][(start + t) * 3 + c];
            }
            next[y][x * 3 + c] = combine(taps, w, fixedPoint);
          }
        }
      }
      plane = next;
    }
    int width = plane[0].length / 3;
    if (outH != inH) {
      int[][] next = new int[outH][width * 3];
      for (int y = 0; y < outH; y++) {
        double[] w = weights(inH, outH, y);
        int start = (int) w[w.length - 1];
        for (int i = 0; i < width * 3; i++) {
          double[] taps = new double[w.length - 1];
          for (int t = 0; t < taps.length; t++) {
            taps[t] = plane[start + t][i];
          }
          next[y][i] = combine(taps, w, fixedPoint);
        }
      }
      plane = next;
    }
    byte[] rgb = new byte[plane.length * width * 3];
    for (int y = 0; y < plane.length; y++) {
      for (int i = 0; i < width * 3; i++) {
        rgb[y * width * 3 + i] = (byte) plane[y][i];
      }
    }
    return new RgbImage(width, plane.length, rgb);
  }

  /** Normalised weights of output index i, with the first tap index appended at the end. */
  private static double[] weights(int inSize, int outSize, int i) {
    double scale = (double) inSize / outSize;
    double filterscale = Math.max(1.0, scale);
    double support = 2.0 * filterscale;
    double center = (i + 0.5) * scale;
    int lo = Math.max(0, (int) (center - support + 0.5));
    int hi = Math.min(inSize, (int) (center + support + 0.5));
    double[] w = new double[hi - lo + 1];
    double sum = 0;
    for (int x = lo; x < hi; x++) {
      w[x - lo] = keys((x - center + 0.5) / filterscale);
      sum += w[x - lo];
    }
    for (int x = 0; x < hi - lo; x++) {
      w[x] /= sum;
    }
    w[hi - lo] = lo;
    return w;
  }

  /** Keys' cubic convolution kernel, a = -0.5, in its textbook form. */
  private static double keys(double x) {
    double a = -0.5;
    x = Math.abs(x);
    if (x < 1) {
      return (a + 2) * x * x * x - (a + 3) * x * x + 1;
    }
    if (x < 2) {
      return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
    }
    return 0;
  }

  private static int combine(double[] taps, double[] w, boolean fixedPoint) {
    if (fixedPoint) {
      long acc = 1L << 21;
      for (int t = 0; t < taps.length; t++) {
        acc += (long) taps[t] * Math.round(w[t] * (1 << 22) * (w[t] < 0 ? -1 : 1))
            * (w[t] < 0 ? -1 : 1);
      }
      return (int) Math.max(0, Math.min(255, acc >> 22));
    }
    double acc = 0;
    for (int t = 0; t < taps.length; t++) {
      acc += taps[t] * w[t];
    }
    return (int) Math.max(0, Math.min(255, Math.floor(acc + 0.5)));
  }

  @Test
  void matchesScalarReferenceOnAwkwardSizes() {
    Random random = new Random(42);
    int[][] sizes = {
        {37, 23, 80, 50}, {37, 23, 13, 9}, {37, 23, 37, 60}, {37, 23, 5, 23}, {1, 1, 7, 3},
        {200, 3, 1, 1}, {3, 200, 29, 2}, {101, 99, 100, 100}, {64, 64, 28, 56}, {17, 251, 17, 250},
    };
    for (int[] s : sizes) {
      check(TestImages.random(s[0], s[1], random.nextLong()), s[2], s[3]);
    }
    for (int i = 0; i < 40; i++) {
      int w = 1 + random.nextInt(90);
      int h = 1 + random.nextInt(90);
      check(TestImages.random(w, h, random.nextLong()), 1 + random.nextInt(120),
          1 + random.nextInt(120));
    }
  }

  private static void check(RgbImage in, int outW, int outH) {
    RgbImage actual = BicubicResampler.resize(in, outW, outH);
    assertEquals(outW, actual.width());
    assertEquals(outH, actual.height());
    String what = in + " -> " + outW + "x" + outH;
    assertArrayEquals(reference(in, outW, outH, true).rgb(), actual.rgb(), what);
    // Fixed point changes a sample by at most one level against exact double arithmetic.
    assertTrue(TestImages.maxDiff(reference(in, outW, outH, false), actual) <= 1, what);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "noise37x23__80x50", "noise37x23__13x9", "noise37x23__37x60", "noise37x23__5x23",
      "noise37x23__1x1", "noise37x23__200x7", "noise37x23__36x24", "noise131x97__28x28",
      "noise131x97__56x84", "noise131x97__130x98", "noise131x97__131x3", "noise131x97__17x250",
      "scene64x48__112x84", "scene64x48__28x56", "scene64x48__64x47"})
  void bitExactAgainstPillow(String name) {
    String source = name.substring(0, name.indexOf("__"));
    String[] size = name.substring(name.indexOf("__") + 2).split("x");
    RgbImage in = TestImages.readPlainRgbPng(TestImages.resource("pillow/resize/src_" + source + ".png"));
    RgbImage expected = TestImages.readPlainRgbPng(TestImages.resource("pillow/resize/src_" + name + ".png"));
    RgbImage actual = BicubicResampler.resize(in, Integer.parseInt(size[0]), Integer.parseInt(size[1]));
    assertArrayEquals(expected.rgb(), actual.rgb(), "Pillow 12.3 Image.resize BICUBIC " + name);
  }

  @Test
  void sameSizeIsACopy() {
    RgbImage in = TestImages.random(9, 7, 1);
    RgbImage out = BicubicResampler.resize(in, 9, 7);
    assertArrayEquals(in.rgb(), out.rgb());
    assertTrue(in.rgb() != out.rgb(), "must not share the caller's array");
  }

  @Test
  void bigDownscaleIsFast() {
    RgbImage big = TestImages.random(4000, 3000, 7);
    BicubicResampler.resize(big, 1000, 750); // warm-up: JIT
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      BicubicResampler.resize(big, 1000, 750);
      best = Math.min(best, System.nanoTime() - t0);
    }
    System.out.printf("resize 4000x3000 -> 1000x750: %.1f ms (best of 3)%n", best / 1e6);
    // Generous bound: the build machine is shared; typically far below.
    assertTrue(best < 2_000_000_000L, "resize took " + best / 1e6 + " ms");
  }
}
