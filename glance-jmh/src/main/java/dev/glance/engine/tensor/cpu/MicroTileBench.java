package dev.glance.engine.tensor.cpu;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Candidate register tiles for the matrix-product micro-kernel, one thread, same work for each:
 * {@link #TOKENS} tokens by {@link #ROWS} weight rows over a {@link #KC}-long slice
 * (2 x 192 x 24 x 256 = 2.36 MFLOP per call; GFLOP/s = 2359.296 / microseconds). Names are
 * rows x vectors of tokens: k6x2 keeps 12 accumulators for 6 rows and 2 vectors of tokens; k6x2rows
 * reads the weight panel row by row instead of interleaved. k12x2 and k4x2 are MatMul's own tiles
 * ({@code kernel12}, {@code kernel4}, called directly: this class sits in their package), the
 * others candidates written here. MatMul picks its tile (NR) from the
 * vector register count. On AVX2 (16 registers) the likely cost of a big tile is spilling: if C2
 * keeps every weight broadcast of an iteration live, a tile needs rows x vectors + vectors + rows
 * registers (k4x2: 14, k6x2: 20, k12x2: 38). Measured by thread CPU time on one loaded Zen 3 core,
 * the same kernels gave k4x2 about 85 GFLOP/s and k6x2/k12x2 about 40; this wall-clock benchmark,
 * on the same loaded machine, gave k12x2 60 us and k4x2 81 us, which is not explained yet. The
 * choice of NR rests on the whole product (k4x2 faster at 512 tokens in every run).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MicroTileBench {
  static final VectorSpecies<Float> FS = MatMul.FS;
  static final int VL = MatMul.VL;
  static final int TOKENS = 192;
  static final int ROWS = 24;
  static final int KC = MatMul.KC;

  float[] xt;
  float[] wp;
  float[] c;

  @Setup(Level.Trial)
  public void setUp() {
    SplittableRandom rnd = new SplittableRandom(1);
    xt = new float[TOKENS * KC + 4 * VL * KC];
    wp = new float[ROWS * KC];
    c = new float[TOKENS * 12 + 4 * VL * 12];
    for (int i = 0; i < xt.length; i++) {
      xt[i] = (float) rnd.nextDouble();
    }
    for (int i = 0; i < wp.length; i++) {
      wp[i] = (float) rnd.nextDouble();
    }
  }

  interface Tile {
    void run(float[] xt, int xo, float[] wp, float[] c, int co);
  }

  private float[] run(int nr, int nv, Tile tile) {
    int tb = nv * VL;
    int blocks = (TOKENS + tb - 1) / tb;
    float[] panel = new float[nr * KC];
    for (int p = 0; p < ROWS / nr; p++) {
      System.arraycopy(wp, p * nr * KC, panel, 0, nr * KC);
      for (int b = 0; b < blocks; b++) {
        tile.run(xt, b * KC * tb, panel, c, b * nr * tb);
      }
    }
    return c;
  }

  @Benchmark
  public float[] k12x2() {
    return run(12, 2, (xt, xo, wp, c, co) -> MatMul.kernel12(xt, xo, wp, KC, c, co, true));
  }
  @Benchmark
  public float[] k8x2() {
    return run(8, 2, (xt, xo, wp, c, co) -> k8x2(xt, xo, wp, KC, c, co));
  }
  @Benchmark
  public float[] k6x2() {
    return run(6, 2, (xt, xo, wp, c, co) -> k6x2(xt, xo, wp, KC, c, co));
  }
  @Benchmark
  public float[] k4x3() {
    return run(4, 3, (xt, xo, wp, c, co) -> k4x3(xt, xo, wp, KC, c, co));
  }
  @Benchmark
  public float[] k6x2rows() {
    return run(6, 2, (xt, xo, wp, c, co) -> k6x2rows(xt, xo, wp, KC, c, co));
  }
  @Benchmark
  public float[] k4x2() {
    return run(4, 2, (xt, xo, wp, c, co) -> MatMul.kernel4(xt, xo, wp, KC, c, co, true));
  }



  static void k8x2(float[] xt, int xo, float[] wp, int kc, float[] c, int co) {
    FloatVector a00 = FloatVector.fromArray(FS, c, co + 0 * VL), a01 = FloatVector.fromArray(FS, c, co + 1 * VL);
    FloatVector a10 = FloatVector.fromArray(FS, c, co + 2 * VL), a11 = FloatVector.fromArray(FS, c, co + 3 * VL);
    FloatVector a20 = FloatVector.fromArray(FS, c, co + 4 * VL), a21 = FloatVector.fromArray(FS, c, co + 5 * VL);
    FloatVector a30 = FloatVector.fromArray(FS, c, co + 6 * VL), a31 = FloatVector.fromArray(FS, c, co + 7 * VL);
    FloatVector a40 = FloatVector.fromArray(FS, c, co + 8 * VL), a41 = FloatVector.fromArray(FS, c, co + 9 * VL);
    FloatVector a50 = FloatVector.fromArray(FS, c, co + 10 * VL), a51 = FloatVector.fromArray(FS, c, co + 11 * VL);
    FloatVector a60 = FloatVector.fromArray(FS, c, co + 12 * VL), a61 = FloatVector.fromArray(FS, c, co + 13 * VL);
    FloatVector a70 = FloatVector.fromArray(FS, c, co + 14 * VL), a71 = FloatVector.fromArray(FS, c, co + 15 * VL);
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * 2 * VL;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + 1 * VL);
      FloatVector w;
      w = FloatVector.broadcast(FS, wp[k * 8 + 0]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(FS, wp[k * 8 + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      w = FloatVector.broadcast(FS, wp[k * 8 + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      w = FloatVector.broadcast(FS, wp[k * 8 + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      w = FloatVector.broadcast(FS, wp[k * 8 + 4]);
      a40 = x0.fma(w, a40);
      a41 = x1.fma(w, a41);
      w = FloatVector.broadcast(FS, wp[k * 8 + 5]);
      a50 = x0.fma(w, a50);
      a51 = x1.fma(w, a51);
      w = FloatVector.broadcast(FS, wp[k * 8 + 6]);
      a60 = x0.fma(w, a60);
      a61 = x1.fma(w, a61);
      w = FloatVector.broadcast(FS, wp[k * 8 + 7]);
      a70 = x0.fma(w, a70);
      a71 = x1.fma(w, a71);
    }
    a00.intoArray(c, co + 0 * VL);
    a01.intoArray(c, co + 1 * VL);
    a10.intoArray(c, co + 2 * VL);
    a11.intoArray(c, co + 3 * VL);
    a20.intoArray(c, co + 4 * VL);
    a21.intoArray(c, co + 5 * VL);
    a30.intoArray(c, co + 6 * VL);
    a31.intoArray(c, co + 7 * VL);
    a40.intoArray(c, co + 8 * VL);
    a41.intoArray(c, co + 9 * VL);
    a50.intoArray(c, co + 10 * VL);
    a51.intoArray(c, co + 11 * VL);
    a60.intoArray(c, co + 12 * VL);
    a61.intoArray(c, co + 13 * VL);
    a70.intoArray(c, co + 14 * VL);
    a71.intoArray(c, co + 15 * VL);
  }

  static void k6x2(float[] xt, int xo, float[] wp, int kc, float[] c, int co) {
    FloatVector a00 = FloatVector.fromArray(FS, c, co + 0 * VL), a01 = FloatVector.fromArray(FS, c, co + 1 * VL);
    FloatVector a10 = FloatVector.fromArray(FS, c, co + 2 * VL), a11 = FloatVector.fromArray(FS, c, co + 3 * VL);
    FloatVector a20 = FloatVector.fromArray(FS, c, co + 4 * VL), a21 = FloatVector.fromArray(FS, c, co + 5 * VL);
    FloatVector a30 = FloatVector.fromArray(FS, c, co + 6 * VL), a31 = FloatVector.fromArray(FS, c, co + 7 * VL);
    FloatVector a40 = FloatVector.fromArray(FS, c, co + 8 * VL), a41 = FloatVector.fromArray(FS, c, co + 9 * VL);
    FloatVector a50 = FloatVector.fromArray(FS, c, co + 10 * VL), a51 = FloatVector.fromArray(FS, c, co + 11 * VL);
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * 2 * VL;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + 1 * VL);
      FloatVector w;
      w = FloatVector.broadcast(FS, wp[k * 6 + 0]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(FS, wp[k * 6 + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      w = FloatVector.broadcast(FS, wp[k * 6 + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      w = FloatVector.broadcast(FS, wp[k * 6 + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      w = FloatVector.broadcast(FS, wp[k * 6 + 4]);
      a40 = x0.fma(w, a40);
      a41 = x1.fma(w, a41);
      w = FloatVector.broadcast(FS, wp[k * 6 + 5]);
      a50 = x0.fma(w, a50);
      a51 = x1.fma(w, a51);
    }
    a00.intoArray(c, co + 0 * VL);
    a01.intoArray(c, co + 1 * VL);
    a10.intoArray(c, co + 2 * VL);
    a11.intoArray(c, co + 3 * VL);
    a20.intoArray(c, co + 4 * VL);
    a21.intoArray(c, co + 5 * VL);
    a30.intoArray(c, co + 6 * VL);
    a31.intoArray(c, co + 7 * VL);
    a40.intoArray(c, co + 8 * VL);
    a41.intoArray(c, co + 9 * VL);
    a50.intoArray(c, co + 10 * VL);
    a51.intoArray(c, co + 11 * VL);
  }

  static void k4x3(float[] xt, int xo, float[] wp, int kc, float[] c, int co) {
    FloatVector a00 = FloatVector.fromArray(FS, c, co + 0 * VL), a01 = FloatVector.fromArray(FS, c, co + 1 * VL), a02 = FloatVector.fromArray(FS, c, co + 2 * VL);
    FloatVector a10 = FloatVector.fromArray(FS, c, co + 3 * VL), a11 = FloatVector.fromArray(FS, c, co + 4 * VL), a12 = FloatVector.fromArray(FS, c, co + 5 * VL);
    FloatVector a20 = FloatVector.fromArray(FS, c, co + 6 * VL), a21 = FloatVector.fromArray(FS, c, co + 7 * VL), a22 = FloatVector.fromArray(FS, c, co + 8 * VL);
    FloatVector a30 = FloatVector.fromArray(FS, c, co + 9 * VL), a31 = FloatVector.fromArray(FS, c, co + 10 * VL), a32 = FloatVector.fromArray(FS, c, co + 11 * VL);
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * 3 * VL;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + 1 * VL);
      FloatVector x2 = FloatVector.fromArray(FS, xt, xi + 2 * VL);
      FloatVector w;
      w = FloatVector.broadcast(FS, wp[k * 4 + 0]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      a02 = x2.fma(w, a02);
      w = FloatVector.broadcast(FS, wp[k * 4 + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      a12 = x2.fma(w, a12);
      w = FloatVector.broadcast(FS, wp[k * 4 + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      a22 = x2.fma(w, a22);
      w = FloatVector.broadcast(FS, wp[k * 4 + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      a32 = x2.fma(w, a32);
    }
    a00.intoArray(c, co + 0 * VL);
    a01.intoArray(c, co + 1 * VL);
    a02.intoArray(c, co + 2 * VL);
    a10.intoArray(c, co + 3 * VL);
    a11.intoArray(c, co + 4 * VL);
    a12.intoArray(c, co + 5 * VL);
    a20.intoArray(c, co + 6 * VL);
    a21.intoArray(c, co + 7 * VL);
    a22.intoArray(c, co + 8 * VL);
    a30.intoArray(c, co + 9 * VL);
    a31.intoArray(c, co + 10 * VL);
    a32.intoArray(c, co + 11 * VL);
  }

  static void k6x2rows(float[] xt, int xo, float[] wp, int kc, float[] c, int co) {
    FloatVector a00 = FloatVector.fromArray(FS, c, co + 0 * VL), a01 = FloatVector.fromArray(FS, c, co + 1 * VL);
    FloatVector a10 = FloatVector.fromArray(FS, c, co + 2 * VL), a11 = FloatVector.fromArray(FS, c, co + 3 * VL);
    FloatVector a20 = FloatVector.fromArray(FS, c, co + 4 * VL), a21 = FloatVector.fromArray(FS, c, co + 5 * VL);
    FloatVector a30 = FloatVector.fromArray(FS, c, co + 6 * VL), a31 = FloatVector.fromArray(FS, c, co + 7 * VL);
    FloatVector a40 = FloatVector.fromArray(FS, c, co + 8 * VL), a41 = FloatVector.fromArray(FS, c, co + 9 * VL);
    FloatVector a50 = FloatVector.fromArray(FS, c, co + 10 * VL), a51 = FloatVector.fromArray(FS, c, co + 11 * VL);
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * 2 * VL;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + 1 * VL);
      FloatVector w;
      w = FloatVector.broadcast(FS, wp[k + 0 * KC]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(FS, wp[k + 1 * KC]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      w = FloatVector.broadcast(FS, wp[k + 2 * KC]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      w = FloatVector.broadcast(FS, wp[k + 3 * KC]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      w = FloatVector.broadcast(FS, wp[k + 4 * KC]);
      a40 = x0.fma(w, a40);
      a41 = x1.fma(w, a41);
      w = FloatVector.broadcast(FS, wp[k + 5 * KC]);
      a50 = x0.fma(w, a50);
      a51 = x1.fma(w, a51);
    }
    a00.intoArray(c, co + 0 * VL);
    a01.intoArray(c, co + 1 * VL);
    a10.intoArray(c, co + 2 * VL);
    a11.intoArray(c, co + 3 * VL);
    a20.intoArray(c, co + 4 * VL);
    a21.intoArray(c, co + 5 * VL);
    a30.intoArray(c, co + 6 * VL);
    a31.intoArray(c, co + 7 * VL);
    a40.intoArray(c, co + 8 * VL);
    a41.intoArray(c, co + 9 * VL);
    a50.intoArray(c, co + 10 * VL);
    a51.intoArray(c, co + 11 * VL);
  }


}
