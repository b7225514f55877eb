package dev.glance.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.cuda.runtime.Device;
import dev.glance.engine.GlanceException;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.model.ModelTwins;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every op of the CUDA backend against the CPU backend (its twin) on random data of awkward sizes
 * (odd widths, widths not a multiple of 8 or 32, head dims under and over a warp). Subclasses
 * choose the device: the CPU emulation in every build, a real GPU in the gpu-tagged run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BackendTwinCases {
  private final Random random = new Random(20260527);
  private final Arena arena = Arena.ofShared();
  CudaBackend gpu;
  private CpuBackend cpu;

  abstract Device newDevice();

  /** The emulation can tell which path a linear layer took; a real device cannot. */
  void expectPath(String kernel, boolean gemm) {}

  @BeforeAll
  void open() {
    cpu = new CpuBackend(2);
    gpu = new CudaBackend(newDevice());
  }

  @AfterAll
  void close() {
    if (gpu != null) {
      gpu.close();
    }
    cpu.close();
    arena.close();
  }

  private float[] randoms(int n, float scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (random.nextFloat() * 2 - 1) * scale;
    }
    return v;
  }

  private TensorData bf16(String name, float[] values, long... shape) {
    MemorySegment s = arena.allocate(2L * values.length, 2);
    for (int i = 0; i < values.length; i++) {
      s.setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(values[i]));
    }
    return new TensorData(name, DType.BF16, shape, s);
  }

  private TensorData f32(String name, float[] values) {
    MemorySegment s = arena.allocate(4L * values.length, 4);
    MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length);
    return new TensorData(name, DType.F32, new long[] {values.length}, s);
  }

  private static float[] host(Backend b, Tensor t) {
    float[] out = new float[t.rows() * t.cols()];
    b.download(t, out);
    return out;
  }

  /** max |a - e| / max |e|, as the fixture tests measure. */
  static double relError(float[] actual, float[] expected) {
    assertEquals(expected.length, actual.length, "length");
    double diff = 0;
    double ref = 0;
    for (int i = 0; i < expected.length; i++) {
      assertTrue(Float.isFinite(actual[i]), "non-finite at " + i + ": " + actual[i]);
      diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
      ref = Math.max(ref, Math.abs(expected[i]));
    }
    return ref == 0 ? diff : diff / ref;
  }

  static void assertClose(float[] actual, float[] expected, double tol, String what) {
    double e = relError(actual, expected);
    assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
  }

  /** The same values on both backends. */
  private Tensor[] pair(float[] v, int rows, int cols) {
    return new Tensor[] {gpu.upload(v, rows, cols), cpu.upload(v, rows, cols)};
  }

  @Test
  void uploadDownloadViewCopyRows() {
    float[] v = randoms(7 * 13, 1);
    Tensor t = gpu.upload(v, 7, 13);
    assertArrayEquals(v, host(gpu, t));
    Tensor view = gpu.view(t, 13, 7);
    assertArrayEquals(v, host(gpu, view));
    float[] row = new float[13];
    gpu.downloadRow(t, 4, row);
    for (int i = 0; i < 13; i++) {
      assertEquals(v[4 * 13 + i], row[i]);
    }
    Tensor dst = gpu.allocate(5, 13);
    assertArrayEquals(new float[65], host(gpu, dst), "allocate gives zeros");
    gpu.copyRows(t, 2, dst, 1, 3);
    float[] got = host(gpu, dst);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 13; c++) {
        assertEquals(v[(2 + r) * 13 + c], got[(1 + r) * 13 + c]);
      }
    }
    float[] w = randoms(20, 1);
    gpu.write(dst, w);
    float[] after = host(gpu, dst);
    for (int i = 0; i < 20; i++) {
      assertEquals(w[i], after[i]);
    }
  }

  @Test
  void largeTransfersGoThroughTheStagingRingInChunks() {
    int n = 9_000_001; // 36 MB: more than a quarter of the staging ring, an odd length
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = i * 0.5f;
    }
    Tensor t = gpu.upload(v, 1, n);
    float[] back = new float[n];
    gpu.download(t, back);
    assertArrayEquals(v, back);
  }

  @Test
  void embedGathersRowsAndRefusesIdsOutsideTheVocabulary() {
    int vocab = 37;
    int cols = 45;
    TensorData table = bf16("emb", randoms(vocab * cols, 1), vocab, cols);
    Weight g = gpu.matrix(table, vocab, cols);
    Weight c = cpu.matrix(table, vocab, cols);
    int[] ids = {0, 36, 5, 5, 17, 36, 2};
    Tensor go = gpu.allocate(ids.length, cols);
    Tensor co = cpu.allocate(ids.length, cols);
    gpu.embed(g, ids, go);
    cpu.embed(c, ids, co);
    assertArrayEquals(host(cpu, co), host(gpu, go));
    assertThrows(GlanceException.BadRequest.class, () -> gpu.embed(g, new int[] {37}, go));
    assertThrows(GlanceException.BadRequest.class, () -> gpu.embed(g, new int[] {-1}, go));
  }

  @Test
  void linearMatchesTheCpuOnBothPaths() {
    int[][] shapes = {{1, 45, 33}, {3, 64, 70}, {8, 200, 33}, {9, 45, 70}, {37, 64, 33}, {21, 200, 129}};
    for (int[] s : shapes) {
      int n = s[0];
      int in = s[1];
      int out = s[2];
      for (boolean withBias : new boolean[] {false, true}) {
        TensorData w = bf16("w", randoms(out * in, 0.2f), out, in);
        TensorData b = f32("b", randoms(out, 0.5f));
        float[] x = randoms(n * in, 1);
        Tensor[] xs = pair(x, n, in);
        Tensor go = gpu.allocate(n, out);
        Tensor co = cpu.allocate(n, out);
        gpu.linear(xs[0], gpu.matrix(w, out, in), withBias ? gpu.vector(b) : null, go);
        cpu.linear(xs[1], cpu.matrix(w, out, in), withBias ? cpu.vector(b) : null, co);
        boolean gemm = n > CudaBackend.GEMV_MAX_ROWS;
        // The GEMM path rounds activations to bf16 (relative step 2^-8); the matrix-vector path keeps them.
        double tol = gemm ? 1e-2 : 1e-5;
        assertClose(host(gpu, go), host(cpu, co), tol, "linear " + n + "x" + in + "->" + out + (withBias ? "+bias" : ""));
        expectPath("linear", gemm);
      }
    }
  }

  @Test
  void norms() {
    float[] x = randoms(5 * 77, 3);
    TensorData g = f32("g", randoms(77, 1));
    Tensor[] xs = pair(x, 5, 77);
    Tensor go = gpu.allocate(5, 77);
    Tensor co = cpu.allocate(5, 77);
    gpu.rmsNorm(xs[0], gpu.vector(g), 1e-5f, go);
    cpu.rmsNorm(xs[1], cpu.vector(g), 1e-5f, co);
    assertClose(host(gpu, go), host(cpu, co), 1e-5, "rmsNorm");
    gpu.rmsNorm(xs[0], gpu.vector(g), 1e-5f, xs[0]);
    assertClose(host(gpu, xs[0]), host(cpu, co), 1e-5, "rmsNorm in place");

    float[] y = randoms(7 * 130, 2);
    for (int i = 0; i < y.length; i++) {
      y[i] += 1.5f; // a mean far from zero
    }
    TensorData w = f32("w", randoms(130, 1));
    TensorData b = f32("b", randoms(130, 1));
    Tensor[] ys = pair(y, 7, 130);
    gpu.layerNorm(ys[0], gpu.vector(w), gpu.vector(b), 1e-5f, ys[0]);
    cpu.layerNorm(ys[1], cpu.vector(w), cpu.vector(b), 1e-5f, ys[1]);
    assertClose(host(gpu, ys[0]), host(cpu, ys[1]), 1e-5, "layerNorm");
  }

  @Test
  void elementwise() {
    int rows = 13;
    int half = 101;
    float[] gu = randoms(rows * 2 * half, 6);
    Tensor[] gus = pair(gu, rows, 2 * half);
    Tensor go = gpu.allocate(rows, half);
    Tensor co = cpu.allocate(rows, half);
    gpu.siluGlu(gus[0], go);
    cpu.siluGlu(gus[1], co);
    assertClose(host(gpu, go), host(cpu, co), 1e-5, "siluGlu");

    float[] a = randoms(1001, 6);
    float[] b = randoms(1001, 6);
    Tensor[] as = pair(a, 1, 1001);
    Tensor[] bs = pair(b, 1, 1001);
    gpu.siluMul(as[0], bs[0], as[0]);
    cpu.siluMul(as[1], bs[1], as[1]);
    assertClose(host(gpu, as[0]), host(cpu, as[1]), 1e-5, "siluMul in place");
    gpu.add(as[0], bs[0], bs[0]);
    cpu.add(as[1], bs[1], bs[1]);
    assertClose(host(gpu, bs[0]), host(cpu, bs[1]), 1e-6, "add");

    float[] x = randoms(999, 5);
    Tensor[] xs = pair(x, 27, 37);
    gpu.gelu(xs[0]);
    cpu.gelu(xs[1]);
    assertClose(host(gpu, xs[0]), host(cpu, xs[1]), 1e-5, "gelu");
  }

  @Test
  void rotaries() {
    int rows = 6;
    float[] x = randoms(rows * 40, 2);
    Tensor[] xs = pair(x, rows, 40);
    float[] cos = randoms(rows * 3, 1);
    float[] sin = randoms(rows * 3, 1);
    Tensor[] cs = pair(cos, rows, 3);
    Tensor[] ss = pair(sin, rows, 3);
    gpu.rotaryInterleaved(xs[0], 5, 3, 10, cs[0], ss[0]);
    cpu.rotaryInterleaved(xs[1], 5, 3, 10, cs[1], ss[1]);
    assertClose(host(gpu, xs[0]), host(cpu, xs[1]), 1e-6, "rotaryInterleaved (partial, offset)");

    float[] y = randoms(5 * 48, 2);
    Tensor[] ys = pair(y, 5, 48);
    float[] c2 = randoms(5 * 6, 1);
    float[] s2 = randoms(5 * 6, 1);
    Tensor[] c2s = pair(c2, 5, 6);
    Tensor[] s2s = pair(s2, 5, 6);
    gpu.rotaryHalf(ys[0], 24, 2, 12, c2s[0], s2s[0]);
    cpu.rotaryHalf(ys[1], 24, 2, 12, c2s[1], s2s[1]);
    assertClose(host(gpu, ys[0]), host(cpu, ys[1]), 1e-6, "rotaryHalf");
  }

  @Test
  void attentionWithinSegments() {
    for (int[] shape : new int[][] {{3, 20}, {2, 40}, {1, 128}}) {
      int heads = shape[0];
      int headDim = shape[1];
      int n = 70;
      int width = heads * headDim;
      int[] segments = {0, 13, 50, 70};
      float[] qkv = randoms(n * 3 * width, 1.5f);
      Tensor[] qs = pair(qkv, n, 3 * width);
      Tensor go = gpu.allocate(n, width);
      Tensor co = cpu.allocate(n, width);
      gpu.attentionSegments(qs[0], heads, headDim, segments, go);
      cpu.attentionSegments(qs[1], heads, headDim, segments, co);
      assertClose(host(gpu, go), host(cpu, co), 1e-5, "attentionSegments " + heads + "x" + headDim);
    }
  }

  @Test
  void causalAttentionPrefillThenDecodeWithSplits() {
    int heads = 6;
    int kvHeads = 2;
    int headDim = 24;
    int capacity = 700;
    int kvWidth = kvHeads * headDim;
    KvCache gc = gpu.kvCache(2, kvHeads, headDim, capacity);
    KvCache cc = cpu.kvCache(2, kvHeads, headDim, capacity);
    int prompt = 650;
    float[] k = randoms(prompt * kvWidth, 1.5f);
    float[] v = randoms(prompt * kvWidth, 1);
    Tensor[] ks = pair(k, prompt, kvWidth);
    Tensor[] vs = pair(v, prompt, kvWidth);
    gpu.writeKv(gc, 1, 0, ks[0], vs[0]);
    cpu.writeKv(cc, 1, 0, ks[1], vs[1]);
    // prefill rows 631..649 (causal inside the block)
    int n = 19;
    float[] q = randoms(n * heads * headDim, 1.5f);
    Tensor[] qs = pair(q, n, heads * headDim);
    Tensor go = gpu.allocate(n, heads * headDim);
    Tensor co = cpu.allocate(n, heads * headDim);
    gpu.attentionCausal(qs[0], gc, 1, prompt - n, heads, go);
    cpu.attentionCausal(qs[1], cc, 1, prompt - n, heads, co);
    assertClose(host(gpu, go), host(cpu, co), 1e-5, "causal prefill");
    // one decode step over 651 keys: split over blocks and combined
    float[] k1 = randoms(kvWidth, 1.5f);
    float[] v1 = randoms(kvWidth, 1);
    gpu.writeKv(gc, 1, prompt, gpu.upload(k1, 1, kvWidth), gpu.upload(v1, 1, kvWidth));
    cpu.writeKv(cc, 1, prompt, cpu.upload(k1, 1, kvWidth), cpu.upload(v1, 1, kvWidth));
    float[] q1 = randoms(heads * headDim, 1.5f);
    Tensor[] q1s = pair(q1, 1, heads * headDim);
    Tensor g1 = gpu.allocate(1, heads * headDim);
    Tensor c1 = cpu.allocate(1, heads * headDim);
    gpu.attentionCausal(q1s[0], gc, 1, prompt, heads, g1);
    cpu.attentionCausal(q1s[1], cc, 1, prompt, heads, c1);
    assertClose(host(gpu, g1), host(cpu, c1), 1e-5, "split-KV decode");
    expectPath("attention_combine", true);
    // short decode: one block per head, no split
    Tensor g2 = gpu.allocate(1, heads * headDim);
    Tensor c2 = cpu.allocate(1, heads * headDim);
    gpu.attentionCausal(q1s[0], gc, 1, 3, heads, g2);
    cpu.attentionCausal(q1s[1], cc, 1, 3, heads, c2);
    assertClose(host(gpu, g2), host(cpu, c2), 1e-5, "short decode");
    assertThrows(GlanceException.BadRequest.class,
        () -> gpu.writeKv(gc, 0, capacity, gpu.upload(k1, 1, kvWidth), gpu.upload(v1, 1, kvWidth)));
  }

  @Test
  void argmaxTakesTheFirstOfEqualMaxima() {
    int cols = 3001;
    float[] x = randoms(4 * cols, 10);
    x[17] = 50;
    x[2000] = 50; // tie in row 0: 17 wins
    x[cols + cols - 1] = 60; // last column of row 1
    x[2 * cols] = Float.NaN; // a NaN never wins
    Tensor t = gpu.upload(x, 4, cols);
    int[] ids = gpu.argmaxRows(t);
    for (int r = 0; r < 4; r++) {
      int best = -1;
      for (int c = 0; c < cols; c++) {
        float v = x[r * cols + c];
        if (!Float.isNaN(v) && (best < 0 || v > x[r * cols + best])) {
          best = c;
        }
      }
      assertEquals(best, ids[r], "row " + r);
    }
    assertEquals(17, ids[0]);
  }

  @Test
  void visionTablesAndPositionEmbeddingMatchTheHostCode() {
    List<ImageGrid> grids = List.of(new ImageGrid(1, 6, 10), new ImageGrid(1, 30, 4));
    int merge = 2;
    int[][] p = ModelTwins.patchCoordinates(grids, merge);
    int n = p[0].length;
    int side = 24;
    int dim = 37;
    float[] table = randoms(side * side * dim, 1);
    float[] expected = ModelTwins.positionEmbedding(table, side * side, dim, grids, merge);
    Tensor out = gpu.allocate(n, dim);
    gpu.positionEmbedding(gpu.upload(table, side * side, dim), side, p[0], p[1], p[2], p[3], out);
    assertClose(host(gpu, out), expected, 1e-6, "bicubic position embedding");

    int headDim = 20;
    double theta = 10000;
    int q = headDim / 4;
    float[] cos = new float[n * 2 * q];
    float[] sin = new float[n * 2 * q];
    ModelTwins.visionRopeTables(headDim, theta, grids, merge, cos, sin);
    float[] inv = new float[q];
    for (int j = 0; j < q; j++) {
      inv[j] = (float) (1.0 / (float) Math.pow(theta, (float) (2 * j) / (float) (headDim / 2)));
    }
    Tensor gc = gpu.allocate(n, 2 * q);
    Tensor gs = gpu.allocate(n, 2 * q);
    gpu.visionRopeTables(p[0], p[1], inv, gc, gs);
    assertMaxAbs(host(gpu, gc), cos, 2e-6, "vision cos");
    assertMaxAbs(host(gpu, gs), sin, 2e-6, "vision sin");
  }

  @Test
  void mropeTablesMatchTheHostCode() {
    var c = dev.glance.engine.io.ModelConfig.load(dev.glance.engine.Fixture.DIR).text();
    dev.glance.engine.model.MRope rope = new dev.glance.engine.model.MRope(c);
    int pairs = rope.pairs();
    int length = 50;
    int[][] pos = new int[3][length];
    for (int a = 0; a < 3; a++) {
      for (int i = 0; i < length; i++) {
        pos[a][i] = random.nextInt(5000);
      }
    }
    int from = 7;
    int n = 40;
    float[] cos = new float[n * pairs];
    float[] sin = new float[n * pairs];
    rope.tables(pos, from, n, cos, sin);
    float[] inv = new float[pairs];
    int[] axisOf = new int[pairs];
    for (int j = 0; j < pairs; j++) {
      inv[j] = (float) (1.0 / (float) Math.pow(c.ropeTheta(), (float) (2 * j) / (float) c.rotaryDim()));
    }
    int j = 0;
    for (int axis = 0; axis < c.mropeSection().size(); axis++) {
      for (int k = 0; k < c.mropeSection().get(axis); k++) {
        axisOf[j++] = axis;
      }
    }
    Tensor gc = gpu.allocate(n, pairs);
    Tensor gs = gpu.allocate(n, pairs);
    gpu.mropeTables(pos, from, n, inv, axisOf, gc, gs);
    assertMaxAbs(host(gpu, gc), cos, 2e-6, "mrope cos");
    assertMaxAbs(host(gpu, gs), sin, 2e-6, "mrope sin");
  }

  private static void assertMaxAbs(float[] actual, float[] expected, double tol, String what) {
    double m = 0;
    for (int i = 0; i < expected.length; i++) {
      m = Math.max(m, Math.abs(actual[i] - expected[i]));
    }
    assertTrue(m <= tol, what + ": max abs error " + m + " > " + tol);
  }

  @Test
  void randomWeightsAreDeterministicAndBounded() {
    Weight w = gpu.randomMatrix("r", 33, 65, 42, 0.05f);
    Weight w2 = gpu.randomMatrix("r", 33, 65, 42, 0.05f);
    int[] ids = new int[33];
    for (int i = 0; i < 33; i++) {
      ids[i] = i;
    }
    Tensor a = gpu.allocate(33, 65);
    Tensor b = gpu.allocate(33, 65);
    gpu.embed(w, ids, a);
    gpu.embed(w2, ids, b);
    float[] av = host(gpu, a);
    assertArrayEquals(av, host(gpu, b));
    double sum = 0;
    for (float f : av) {
      // bf16 rounding may step just past the scale: one bf16 ulp of slack
      assertTrue(Math.abs(f) <= 0.05f * (1 + 0x1p-7f), "value " + f + " outside the scale");
      sum += Math.abs(f);
    }
    assertTrue(sum / av.length > 0.015, "values look uniform in [-0.05, 0.05): mean |x| " + sum / av.length);
  }
}
