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
    int[][] shapes = {{1, 37, 19}, {5, 64, 33}, {3, 129, 70}, {7, 8, 1}};
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
  }

  @Test
  void activationsMatchScalar() {
    float[] gu = random(2 * 22);
    Tensor act = B.allocate(2, 11);
    B.siluGlu(B.upload(gu, 2, 22), act);
    double[] ref = new double[22];
    for (int t = 0; t < 2; t++) {
      for (int i = 0; i < 11; i++) {
        double g = gu[t * 22 + i];
        ref[t * 11 + i] = g / (1 + Math.exp(-g)) * gu[t * 22 + 11 + i];
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
    int heads = 3;
    int hd = 10;
    int n = 13;
    int[] segs = {0, 4, 13};
    int w = heads * hd;
    float[] qkv = random(n * 3 * w);
    Tensor out = B.allocate(n, w);
    B.attentionSegments(B.upload(qkv, n, 3 * w), heads, hd, segs, out);
    double[] ref = new double[n * w];
    for (int r = 0; r < n; r++) {
      int seg = r < 4 ? 0 : 1;
      int[] rows = java.util.stream.IntStream.range(segs[seg], segs[seg + 1]).toArray();
      for (int h = 0; h < heads; h++) {
        // K at column w + h*hd, V at 2w + h*hd: use separate views of the same array.
        float[] kView = new float[n * 3 * w];
        float[] vView = new float[n * 3 * w];
        for (int j = 0; j < n; j++) {
          System.arraycopy(qkv, j * 3 * w + w, kView, j * 3 * w, w);
          System.arraycopy(qkv, j * 3 * w + 2 * w, vView, j * 3 * w, w);
        }
        double[] o = attend(qkv, r * 3 * w + h * hd, kView, vView, rows, h * hd, 3 * w, hd);
        System.arraycopy(o, 0, ref, r * w + h * hd, hd);
      }
    }
    close(ref, host(out), 1e-5);
  }

  @Test
  void causalAttentionWithGroupedQueries() {
    int heads = 4;
    int kvHeads = 2;
    int hd = 9;
    int prior = 5;
    int n = 3;
    KvCache cache = B.kvCache(1, kvHeads, hd, prior + n);
    float[] kAll = random((prior + n) * kvHeads * hd);
    float[] vAll = random((prior + n) * kvHeads * hd);
    int kvw = kvHeads * hd;
    float[] k1 = java.util.Arrays.copyOfRange(kAll, 0, prior * kvw);
    float[] v1 = java.util.Arrays.copyOfRange(vAll, 0, prior * kvw);
    B.writeKv(cache, 0, 0, B.upload(k1, prior, kvw), B.upload(v1, prior, kvw));
    float[] k2 = java.util.Arrays.copyOfRange(kAll, prior * kvw, (prior + n) * kvw);
    float[] v2 = java.util.Arrays.copyOfRange(vAll, prior * kvw, (prior + n) * kvw);
    B.writeKv(cache, 0, prior, B.upload(k2, n, kvw), B.upload(v2, n, kvw));
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
}
