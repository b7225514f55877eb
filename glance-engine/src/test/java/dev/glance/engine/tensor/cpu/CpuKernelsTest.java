package dev.glance.engine.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Each CPU kernel against a plain scalar double-precision reference, on awkward sizes. */
class CpuKernelsTest {
  private static final CpuBackend B = new CpuBackend(2);
  private static final Arena ARENA = Arena.ofShared();
  private final SplittableRandom rnd = new SplittableRandom(42);

  @AfterAll
  static void close() {
    B.close();
  }

  private float[] random(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return v;
  }

  /** Stores values in dtype and returns what the stored values read back as. */
  private static TensorData store(String name, float[] values, DType dtype, float[] readBack) {
    MemorySegment seg = ARENA.allocate((long) values.length * dtype.bytes(), 8);
    var le16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    var le32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      switch (dtype) {
        case F32 -> {
          seg.setAtIndex(le32, i, values[i]);
          readBack[i] = values[i];
        }
        case BF16 -> {
          short s = (short) (Float.floatToRawIntBits(values[i]) >>> 16);
          seg.setAtIndex(le16, i, s);
          readBack[i] = Float.intBitsToFloat((s & 0xffff) << 16);
        }
        case F16 -> {
          short s = Float.floatToFloat16(values[i]);
          seg.setAtIndex(le16, i, s);
          readBack[i] = Float.float16ToFloat(s);
        }
        default -> throw new IllegalArgumentException();
      }
    }
    return new TensorData(name, dtype, new long[] {values.length}, seg);
  }

  private static float[] host(Tensor t) {
    float[] v = new float[t.rows() * t.cols()];
    B.download(t, v);
    return v;
  }

  private static void close(double[] expected, float[] actual, double tol) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i]));
      assertTrue(err <= tol, "element " + i + ": expected " + expected[i] + " got " + actual[i]);
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
  void linearMatchesScalar(DType dtype) {
    // Token counts for each path: one streamed row at a time, a few tokens per converted row pair
    // (odd rows, tokens not a multiple of four), tiles with a partial token block, and more tokens
    // than one group and more panels than one chunk (MatMul.GROUP_TOKENS, CHUNK_PANELS).
    // Both sides of MatMul.GEMM_MIN_ROWS on either register count (10 or 33 tokens), and row
    // counts that leave 1, 2 or 3 rows of the four-row streaming tile and 1 or 2 rows of the
    // three-row eight-token tile (5-32 tokens on 32 registers). Tiles with a short last block
    // that streams (MatMul.STREAM_TAIL: 33, 37, 39, 48, 70, 300 tokens on 32 registers) and with
    // one too long to stream (50). Last, one token over many rows: the decode kernel's four
    // streams from the quarters of each chunk, with rows left over.
    int[][] shapes = {{1, 37, 19}, {2, 37, 19}, {5, 64, 33}, {3, 129, 70}, {7, 8, 1}, {8, 33, 13}, {9, 70, 17},
      {11, 45, 9}, {13, 70, 31}, {16, 129, 6}, {6, 70, 35}, {12, 33, 67}, {14, 64, 34}, {17, 37, 11},
      {24, 70, 35}, {32, 45, 31}, {8, 60, 13}, {10, 48, 7}, {20, 94, 11},
      {33, 37, 13}, {39, 70, 35}, {48, 64, 17}, {50, 70, 31}, {37, 300, 29}, {70, 513, 25}, {300, 45, 203},
      {1, 70, 203}, {1, 45, 1001}};
    for (int[] s : shapes) {
      int n = s[0];
      int in = s[1];
      int out = s[2];
      float[] w = random(out * in);
      float[] wq = new float[w.length];
      Weight weight = B.matrix(store("w", w, dtype, wq), out, in);
      float[] bias = random(out);
      float[] bq = new float[out];
      Weight bw = B.vector(store("b", bias, DType.F32, bq));
      float[] x = random(n * in);
      Tensor o = B.allocate(n, out);
      B.linear(B.upload(x, n, in), weight, bw, o);
      double[] ref = new double[n * out];
      for (int t = 0; t < n; t++) {
        for (int r = 0; r < out; r++) {
          double acc = bq[r];
          for (int i = 0; i < in; i++) {
            acc += (double) wq[r * in + i] * x[t * in + i];
          }
          ref[t * out + r] = acc;
        }
      }
      close(ref, host(o), 1e-5);
    }
  }

  /** Quantised weights: the kernels against a scalar product of the dequantised values. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
  void quantisedLinearMatchesScalarOnDequantisedValues(DType format) {
    // Token counts on both sides of the streaming/tiled switch, tiles with a streamed last block
    // (33, 34, 40, 70) and one without (50); widths in whole blocks. On 32 registers 2-4 tokens
    // (and the 1-2 streamed after 32 or 33 tiled ones) take Q8_0's in-place four-row tile, with a
    // short last row group (9, 37, 23 rows), and 5-32 tokens its eight-token tile, with rows
    // spread over thirds of a chunk and rows left over.
    // Last, one token over many rows: the decode kernels' four row streams per chunk and the rows
    // left over.
    int[][] shapes = {{1, 32, 19}, {2, 64, 9}, {3, 96, 37}, {4, 128, 23}, {34, 96, 17}, {5, 320, 13}, {8, 64, 25}, {9, 96, 11}, {12, 96, 30},
      {16, 64, 7}, {17, 64, 5}, {24, 64, 11}, {6, 128, 40}, {32, 96, 101}, {33, 160, 29}, {40, 96, 9}, {50, 96, 13}, {70, 288, 7},
      {1, 96, 203}, {1, 64, 1001}};
    for (int[] s : shapes) {
      int n = s[0];
      int in = s[1];
      int out = s[2];
      float[] w = random(out * in);
      float[] ignored = new float[w.length];
      Weight weight = B.matrix(store("w", w, DType.BF16, ignored), out, in, format);
      float[] deq = new float[out * in];
      for (int r = 0; r < out; r++) {
        for (int i = 0; i < in; i++) {
          deq[r * in + i] = ((CpuWeight) weight).get(r, i);
        }
      }
      float[] x = random(n * in);
      Tensor o = B.allocate(n, out);
      B.linear(B.upload(x, n, in), weight, null, o);
      // One-token decode through an integer kernel multiplies against x quantised to Q8 blocks;
      // the reference does the same with the plain quantiser below, so only the kernels'
      // arithmetic is compared.
      boolean quantisedX = n == 1 && weight instanceof CpuWeight.IntDot q && q.integerDecode();
      float[] xr = quantisedX ? q8RoundTrip(x) : x;
      double[] ref = new double[n * out];
      for (int t = 0; t < n; t++) {
        for (int r = 0; r < out; r++) {
          double acc = 0;
          for (int i = 0; i < in; i++) {
            acc += (double) deq[r * in + i] * xr[t * in + i];
          }
          ref[t * out + r] = acc;
        }
      }
      close(ref, host(o), 1e-5);
    }
  }

  /** Each block of x as Q8_0 with a float32 scale, dequantised, written out plainly. */
  private static float[] q8RoundTrip(float[] x) {
    float[] r = new float[x.length];
    for (int b = 0; b < x.length / 32; b++) {
      float amax = 0;
      for (int j = 0; j < 32; j++) {
        amax = Math.max(amax, Math.abs(x[b * 32 + j]));
      }
      float d = amax / 127f;
      for (int j = 0; j < 32; j++) {
        float v = d == 0 ? 0 : x[b * 32 + j] * (1 / d);
        r[b * 32 + j] = d * (int) (Math.signum(v) * Math.floor(Math.abs(v) + 0.5));
      }
    }
    return r;
  }

  @Test
  void activationQuantiserFollowsTheReferenceRounding() {
    int n = 3;
    int cols = 32 * 5;
    float[] x = random(n * cols);
    x[7] = 0.5f * x[0]; // not a tie by itself, but exercises a second value per block
    java.util.Arrays.fill(x, 32, 64, 0f); // an all-zero block
    x[100] = -1.5f; // the block's extreme: q = -127 exactly
    // Block 4: scale exactly 1, so these are ties, which go away from zero.
    float[] ties = {127f, 2.5f, -2.5f, 0.5f, -0.5f, 126.5f, -0.49f};
    System.arraycopy(ties, 0, x, 128, ties.length);
    Q8Rows q = new Q8Rows();
    q.quantize(x, n, cols);
    float[] expected = q8RoundTrip(x);
    for (int i = 0; i < n * cols; i++) {
      float got = q.scales()[i / 32] * q.values()[i];
      assertEquals(expected[i], got, 0f, "element " + i);
      assertTrue(Math.abs(q.values()[i]) <= 127, "element " + i + " out of int8 range");
    }
    assertEquals(-127, q.values()[100]);
    short[] tiesQ = {127, 3, -3, 1, -1, 127, 0};
    for (int i = 0; i < tiesQ.length; i++) {
      assertEquals(tiesQ[i], q.values()[128 + i], "tie " + ties[i]);
    }
  }

  /**
   * The integer decode kernels directly, against a double-precision product of the dequantised
   * weights with the dequantised x: odd row counts and sub-ranges (the two-row pass and its
   * one-row tail), several block counts, a token past the first (block offset) and an output
   * offset.
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
  void integerDecodeKernelsMatchScalar(DType format) {
    int[][] shapes = {{1, 1}, {2, 1}, {3, 2}, {7, 3}, {33, 5}, {19, 64}};
    for (int[] s : shapes) {
      int rows = s[0];
      int in = s[1] * 32;
      float[] w = random(rows * in);
      MemorySegment seg = ARENA.allocate(format.byteSize((long) rows * in));
      dev.glance.engine.tensor.Quantizer.quantize(format, w, 0, rows * in, seg, 0);
      CpuWeight weight = CpuWeight.of("w", format, seg, rows, in);
      int tokens = 2;
      float[] x = random(tokens * in);
      Q8Rows q = new Q8Rows();
      q.quantize(x, tokens, in);
      float[] xr = q8RoundTrip(x);
      for (int t = 0; t < tokens; t++) {
        for (int[] range : new int[][] {{0, rows}, {rows / 3, rows}, {1, Math.max(1, rows - 1)}}) {
          int r0 = range[0];
          int r1 = range[1];
          float[] out = new float[rows + 5];
          ((CpuWeight.IntDot) weight).dotRowsInt8(r0, r1, q.values(), q.scales(), t * (in / 32), out, 5);
          for (int r = 0; r < rows; r++) {
            if (r < r0 || r >= r1) {
              assertEquals(0f, out[5 + r], 0f, format + " wrote outside its rows");
              continue;
            }
            double acc = 0;
            for (int i = 0; i < in; i++) {
              acc += (double) weight.get(r, i) * xr[t * in + i];
            }
            double err = Math.abs(acc - out[5 + r]) / Math.max(1, Math.abs(acc));
            assertTrue(err <= 1e-5, format + " " + rows + "x" + in + " token " + t + " row " + r
                + ": expected " + acc + " got " + out[5 + r]);
          }
        }
      }
    }
  }

  /** Blocks against llama.cpp's reference rounding, written out plainly, and the error bound. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
  void quantiserFollowsTheReferenceRounding(DType format) {
    int n = 32 * 9;
    float[] x = random(n);
    x[5] = 0.75f; // ties and exact extremes in the first block
    x[40] = 0f;
    java.util.Arrays.fill(x, 64, 96, 0f); // an all-zero block: scale 0, values 0
    MemorySegment seg = ARENA.allocate(format.byteSize(n));
    dev.glance.engine.tensor.Quantizer.quantize(format, x, 0, n, seg, 0);
    TensorData t = new TensorData("q", format, new long[] {n}, seg);
    for (int b = 0; b < n / 32; b++) {
      float amax = 0;
      float max = 0;
      for (int j = 0; j < 32; j++) {
        float v = x[b * 32 + j];
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          max = v;
        }
      }
      float d = format == DType.Q8_0 ? amax / 127f : max / -8f;
      float id = d == 0 ? 0 : 1 / d;
      float stored = Float.float16ToFloat(Float.floatToFloat16(d));
      for (int j = 0; j < 32; j++) {
        float v = x[b * 32 + j] * id;
        int q = format == DType.Q8_0 ? (int) (Math.signum(v) * Math.floor(Math.abs(v) + 0.5))
            : Math.min(15, (int) Math.floor(v + 8.5)) - 8;
        assertEquals(stored * q, t.getFloat(b * 32 + j), 0f, format + " element " + (b * 32 + j));
        double bound = format == DType.Q8_0 ? amax / 127.0 * 0.6 : amax / 8.0 * 1.02; // half a step, plus the f16 rounding of the scale
        assertTrue(Math.abs(t.getFloat(b * 32 + j) - x[b * 32 + j]) <= bound + 1e-6, "error bound at " + j);
      }
    }
  }

  @Test
  void rmsNormAndLayerNormMatchScalar() {
    int n = 3;
    int d = 45;
    float[] x = random(n * d);
    float[] g = random(d);
    float[] beta = random(d);
    float[] gq = new float[d];
    float[] bq = new float[d];
    Weight gw = B.vector(store("g", g, DType.F32, gq));
    Weight bw = B.vector(store("beta", beta, DType.F32, bq));
    Tensor rms = B.allocate(n, d);
    B.rmsNorm(B.upload(x, n, d), gw, 1e-5f, rms);
    Tensor ln = B.upload(x, n, d);
    B.layerNorm(ln, gw, bw, 1e-5f, ln);
    double[] r1 = new double[n * d];
    double[] r2 = new double[n * d];
    for (int t = 0; t < n; t++) {
      double ss = 0;
      double mean = 0;
      for (int i = 0; i < d; i++) {
        ss += x[t * d + i] * (double) x[t * d + i];
        mean += x[t * d + i];
      }
      mean /= d;
      double var = 0;
      for (int i = 0; i < d; i++) {
        var += Math.pow(x[t * d + i] - mean, 2);
      }
      var /= d;
      for (int i = 0; i < d; i++) {
        r1[t * d + i] = x[t * d + i] / Math.sqrt(ss / d + 1e-5) * g[i];
        r2[t * d + i] = (x[t * d + i] - mean) / Math.sqrt(var + 1e-5) * g[i] + beta[i];
      }
    }
    close(r1, host(rms), 1e-5);
    close(r2, host(ln), 1e-5);

    // Fused residual step: x += rmsNorm(y) * g.
    float[] y = random(n * d);
    Tensor res = B.upload(x, n, d);
    B.addRmsNorm(res, B.upload(y, n, d), gw, 1e-5f);
    double[] r3 = new double[n * d];
    for (int t = 0; t < n; t++) {
      double ss = 0;
      for (int i = 0; i < d; i++) {
        ss += y[t * d + i] * (double) y[t * d + i];
      }
      for (int i = 0; i < d; i++) {
        r3[t * d + i] = x[t * d + i] + y[t * d + i] / Math.sqrt(ss / d + 1e-5) * gq[i];
      }
    }
    close(r3, host(res), 1e-5);
  }

  @Test
  void elementwiseOpsOnOddLengths() {
    int rows = 3;
    int cols = 53;
    float[] a = random(rows * cols);
    float[] b = random(rows * cols);
    Tensor sum = B.allocate(rows, cols);
    B.add(B.upload(a, rows, cols), B.upload(b, rows, cols), sum);
    Tensor sm = B.allocate(rows, cols);
    B.siluMul(B.upload(a, rows, cols), B.upload(b, rows, cols), sm);
    double[] r1 = new double[a.length];
    double[] r2 = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r1[i] = (double) a[i] + b[i];
      r2[i] = a[i] / (1 + Math.exp(-a[i])) * b[i];
    }
    close(r1, host(sum), 1e-6);
    close(r2, host(sm), 1e-6);
  }

  @Test
  void activationsMatchScalar() {
    int half = 37;
    float[] gu = random(3 * 2 * half);
    Tensor act = B.allocate(3, half);
    B.siluGlu(B.upload(gu, 3, 2 * half), act);
    double[] ref = new double[3 * half];
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < half; i++) {
        ref[t * half + i] = gu[t * 2 * half + i] / (1 + Math.exp(-gu[t * 2 * half + i])) * gu[t * 2 * half + half + i];
      }
    }
    close(ref, host(act), 1e-6);
    float[] x = new float[] {-6f, -3f, -1.5f, -0.7f, -0.2f, 0f, 0.3f, 0.6f, 1f, 2.5f, 5f};
    Tensor gx = B.upload(x, 1, x.length);
    B.gelu(gx);
    // erf values from a table (Abramowitz & Stegun), exact GELU = x/2 (1 + erf(x/sqrt 2)).
    double[] expected = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      expected[i] = 0.5 * x[i] * (1 + erfSeries(x[i] / Math.sqrt(2)));
    }
    close(expected, host(gx), 1e-6);
  }

  /** erf by its Taylor series (slow, plainly correct for |x| < 5). */
  private static double erfSeries(double x) {
    double sum = 0;
    double term = x;
    for (int n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  @Test
  void rotaryVariantsMatchScalar() {
    int n = 3;
    int heads = 2;
    int hd = 12;
    int pairs = 4; // partial: 8 of 12 dims rotate
    float[] x = random(n * (heads * hd + 5));
    float[] c = random(n * pairs);
    float[] s = random(n * pairs);
    int cols = heads * hd + 5;
    Tensor t = B.upload(x, n, cols);
    B.rotaryInterleaved(t, 5, heads, hd, B.upload(c, n, pairs), B.upload(s, n, pairs));
    double[] ref = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      ref[i] = x[i];
    }
    for (int r = 0; r < n; r++) {
      for (int h = 0; h < heads; h++) {
        int base = r * cols + 5 + h * hd;
        for (int j = 0; j < pairs; j++) {
          double a = x[base + 2 * j];
          double b = x[base + 2 * j + 1];
          ref[base + 2 * j] = a * c[r * pairs + j] - b * s[r * pairs + j];
          ref[base + 2 * j + 1] = b * c[r * pairs + j] + a * s[r * pairs + j];
        }
      }
    }
    close(ref, host(t), 1e-6);

    float[] c2 = random(n * hd / 2);
    float[] s2 = random(n * hd / 2);
    Tensor u = B.upload(x, n, cols);
    B.rotaryHalf(u, 5, heads, hd, B.upload(c2, n, hd / 2), B.upload(s2, n, hd / 2));
    for (int i = 0; i < x.length; i++) {
      ref[i] = x[i];
    }
    for (int r = 0; r < n; r++) {
      for (int h = 0; h < heads; h++) {
        int base = r * cols + 5 + h * hd;
        for (int i = 0; i < hd / 2; i++) {
          double a = x[base + i];
          double b = x[base + i + hd / 2];
          ref[base + i] = a * c2[r * hd / 2 + i] - b * s2[r * hd / 2 + i];
          ref[base + i + hd / 2] = b * c2[r * hd / 2 + i] + a * s2[r * hd / 2 + i];
        }
      }
    }
    close(ref, host(u), 1e-6);
  }

  private static double[] attend(float[] q, int qo, float[] k, float[] v, int[] rows, int ko, int stride, int hd) {
    double[] scores = new double[rows.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < rows.length; j++) {
      double s = 0;
      for (int i = 0; i < hd; i++) {
        s += (double) q[qo + i] * k[rows[j] * stride + ko + i];
      }
      scores[j] = s / Math.sqrt(hd);
      max = Math.max(max, scores[j]);
    }
    double sum = 0;
    for (int j = 0; j < rows.length; j++) {
      scores[j] = Math.exp(scores[j] - max);
      sum += scores[j];
    }
    double[] out = new double[hd];
    for (int j = 0; j < rows.length; j++) {
      for (int i = 0; i < hd; i++) {
        out[i] += scores[j] / sum * v[rows[j] * stride + ko + i];
      }
    }
    return out;
  }

  @Test
  void segmentAttentionStaysInsideEachSegment() {
    segmentAttention(3, 10, 13, new int[] {0, 4, 13});
    // Several key blocks and query tiles per segment; head size not a multiple of the tile.
    segmentAttention(2, 40, 101, new int[] {0, 45, 46, 101});
  }

  private void segmentAttention(int heads, int hd, int n, int[] segs) {
    int w = heads * hd;
    float[] qkv = random(n * 3 * w);
    Tensor out = B.allocate(n, w);
    B.attentionSegments(B.upload(qkv, n, 3 * w), heads, hd, segs, out);
    double[] ref = new double[n * w];
    float[] kView = new float[n * 3 * w];
    float[] vView = new float[n * 3 * w];
    for (int j = 0; j < n; j++) {
      System.arraycopy(qkv, j * 3 * w + w, kView, j * 3 * w, w);
      System.arraycopy(qkv, j * 3 * w + 2 * w, vView, j * 3 * w, w);
    }
    for (int r = 0; r < n; r++) {
      int seg = 0;
      while (segs[seg + 1] <= r) {
        seg++;
      }
      int[] rows = java.util.stream.IntStream.range(segs[seg], segs[seg + 1]).toArray();
      for (int h = 0; h < heads; h++) {
        double[] o = attend(qkv, r * 3 * w + h * hd, kView, vView, rows, h * hd, 3 * w, hd);
        System.arraycopy(o, 0, ref, r * w + h * hd, hd);
      }
    }
    close(ref, host(out), 1e-5);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void causalAttentionWithGroupedQueries(DType kv) {
    causalAttention(4, 2, 9, 5, 3, kv);
    // A decode step over several key blocks; a prefill whose tiles span heads and positions.
    causalAttention(16, 2, 32, 70, 1, kv);
    causalAttention(6, 3, 20, 33, 29, kv);
  }

  private void causalAttention(int heads, int kvHeads, int hd, int prior, int n, DType kv) {
    KvCache cache = B.kvCache(1, kvHeads, hd, prior + n, kv);
    float[] kAll = random((prior + n) * kvHeads * hd);
    float[] vAll = random((prior + n) * kvHeads * hd);
    int kvw = kvHeads * hd;
    float[] k1 = java.util.Arrays.copyOfRange(kAll, 0, prior * kvw);
    float[] v1 = java.util.Arrays.copyOfRange(vAll, 0, prior * kvw);
    B.writeKv(cache, 0, 0, B.upload(k1, prior, kvw), B.upload(v1, prior, kvw));
    float[] k2 = java.util.Arrays.copyOfRange(kAll, prior * kvw, (prior + n) * kvw);
    float[] v2 = java.util.Arrays.copyOfRange(vAll, prior * kvw, (prior + n) * kvw);
    B.writeKv(cache, 0, prior, B.upload(k2, n, kvw), B.upload(v2, n, kvw));
    if (kv == DType.BF16) {
      for (int i = 0; i < kAll.length; i++) {
        kAll[i] = Float.intBitsToFloat(CpuKvCache.toBf16(kAll[i]) << 16);
        vAll[i] = Float.intBitsToFloat(CpuKvCache.toBf16(vAll[i]) << 16);
      }
    }
    float[] q = random(n * heads * hd);
    Tensor out = B.allocate(n, heads * hd);
    B.attentionCausal(B.upload(q, n, heads * hd), cache, 0, prior, heads, out);
    double[] ref = new double[n * heads * hd];
    for (int r = 0; r < n; r++) {
      int[] rows = java.util.stream.IntStream.rangeClosed(0, prior + r).toArray();
      for (int h = 0; h < heads; h++) {
        int kvh = h / (heads / kvHeads);
        double[] o = attend(q, r * heads * hd + h * hd, kAll, vAll, rows, kvh * hd, kvw, hd);
        System.arraycopy(o, 0, ref, r * heads * hd + h * hd, hd);
      }
    }
    close(ref, host(out), 1e-5);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void batchedDecodeAttentionReadsEachRowsOwnCache(DType kv) {
    // Rows of different lengths (one below a key block, one across several, one at 0 prior) and
    // a query-head group wider than a register tile.
    rowsAttention(4, 2, 9, new int[] {5, 0, 37}, kv);
    rowsAttention(26, 2, 20, new int[] {70, 1}, kv);
  }

  private void rowsAttention(int heads, int kvHeads, int hd, int[] priors, DType kv) {
    int n = priors.length;
    int kvw = kvHeads * hd;
    KvCache[] caches = new KvCache[n];
    float[][] kAll = new float[n][];
    float[][] vAll = new float[n][];
    for (int r = 0; r < n; r++) {
      caches[r] = B.kvCache(1, kvHeads, hd, priors[r] + 3, kv);
      kAll[r] = random((priors[r] + 1) * kvw);
      vAll[r] = random((priors[r] + 1) * kvw);
      if (priors[r] > 0) {
        B.writeKv(caches[r], 0, 0, B.upload(java.util.Arrays.copyOf(kAll[r], priors[r] * kvw), priors[r], kvw),
            B.upload(java.util.Arrays.copyOf(vAll[r], priors[r] * kvw), priors[r], kvw));
      }
    }
    float[] kNew = new float[n * kvw];
    float[] vNew = new float[n * kvw];
    for (int r = 0; r < n; r++) {
      System.arraycopy(kAll[r], priors[r] * kvw, kNew, r * kvw, kvw);
      System.arraycopy(vAll[r], priors[r] * kvw, vNew, r * kvw, kvw);
    }
    B.writeKvRows(caches, 0, priors, B.upload(kNew, n, kvw), B.upload(vNew, n, kvw));
    float[] q = random(n * heads * hd);
    Tensor out = B.allocate(n, heads * hd);
    B.attentionRows(B.upload(q, n, heads * hd), caches, 0, priors, heads, out);
    double[] ref = new double[n * heads * hd];
    for (int r = 0; r < n; r++) {
      if (kv == DType.BF16) {
        for (int i = 0; i < kAll[r].length; i++) {
          kAll[r][i] = Float.intBitsToFloat(CpuKvCache.toBf16(kAll[r][i]) << 16);
          vAll[r][i] = Float.intBitsToFloat(CpuKvCache.toBf16(vAll[r][i]) << 16);
        }
      }
      int[] rows = java.util.stream.IntStream.rangeClosed(0, priors[r]).toArray();
      for (int h = 0; h < heads; h++) {
        int kvh = h / (heads / kvHeads);
        double[] o = attend(q, r * heads * hd + h * hd, kAll[r], vAll[r], rows, kvh * hd, kvw, hd);
        System.arraycopy(o, 0, ref, r * heads * hd + h * hd, hd);
      }
    }
    close(ref, host(out), 1e-5);
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals((short) 0x3f80, CpuKvCache.toBf16(1.0f));
    // 1 + 2^-8 lies halfway between two bf16 values: ties go to the even one (1.0).
    assertEquals((short) 0x3f80, CpuKvCache.toBf16(Float.intBitsToFloat(0x3f808000)));
    assertEquals((short) 0x3f82, CpuKvCache.toBf16(Float.intBitsToFloat(0x3f818000)));
    assertEquals((short) 0x3f81, CpuKvCache.toBf16(Float.intBitsToFloat(0x3f808001)));
    assertTrue(Float.isNaN(Float.intBitsToFloat(CpuKvCache.toBf16(Float.NaN) << 16)));
  }
}
