package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * out = x W^T (+ bias) for every weight format. Few rows (decode, small batches) take the
 * weight-streaming path: each row of W is read once from memory and dotted with every token.
 * Many rows (prefill, the vision tower) take a register-tiled matrix-matrix path: the tokens are
 * packed transposed so a vector holds one column for {@link #TB} tokens, each panel of
 * {@link #NR} weight rows is converted to float32 once per {@link #KC}-wide slice and interleaved
 * ([k][row]), and a micro-kernel keeps NR x TB sums in registers while it broadcasts weights
 * against token vectors. The converted panel is reused by every token block, so the cost of
 * reading BF16 or dequantising Q8_0/Q4_0 is paid once per weight, not once per token.
 */
final class MatMul {
  static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  static final int VL = FS.length();
  /** Tokens per micro-tile: two vectors. */
  static final int TB = 2 * VL;
  /** Weight rows per micro-tile: 12 x 2 accumulators fill 24 of the 32 vector registers. */
  static final int NR = 12;
  /** Reduction slice: an NR x KC packed panel stays in L1 while every token block passes. */
  static final int KC = 256;
  /** From this many tokens on, the matrix-matrix path wins over streaming rows once per token. */
  static final int GEMM_MIN_ROWS = 8;

  private final ParallelRange parallel;
  private float[] packedX = new float[0];
  private final float[][] panel;
  private final float[][] rowTmp;
  private final float[][] acc;
  /** The decode vector(s) quantised for block-format weights, reused across calls. */
  private final Q8Rows quantizedX = new Q8Rows();

  /** One call of a row kernel: rows [r0, r1) of the weight against token t. */
  private interface RowKernel {
    void run(int r0, int r1, int t);
  }

  MatMul(ParallelRange parallel) {
    this.parallel = parallel;
    int t = parallel.threads();
    panel = new float[t][KC * NR];
    rowTmp = new float[t][KC];
    acc = new float[t][0];
  }

  /** x [n][inF] (row-major, from xs), W [outF][inF], out [n][outF]; bias may be null. */
  synchronized void linear(CpuWeight w, float[] xs, int n, float[] bias, float[] os) {
    if (n < GEMM_MIN_ROWS) {
      streamRows(w, xs, n, bias, os);
    } else {
      gemm(w, xs, n, bias, os);
    }
  }

  private void streamRows(CpuWeight w, float[] xs, int n, float[] bias, float[] os) {
    int inF = w.cols();
    int outF = w.rows();
    RowKernel kernel;
    if (CpuWeight.INT8 && w instanceof CpuWeight.IntDot q) {
      // Block formats multiply in integer lanes against x quantised here, once per call, and
      // shared by every row and thread (see CpuWeight.IntDot).
      quantizedX.quantize(xs, n, inF);
      short[] xq = quantizedX.values();
      float[] xd = quantizedX.scales();
      int blocksPerRow = inF / DType.BLOCK;
      kernel = (r0, r1, t) -> q.dotRowsInt8(r0, r1, xq, xd, t * blocksPerRow, os, t * outF);
    } else {
      kernel = (r0, r1, t) -> w.dotRows(r0, r1, xs, t * inF, os, t * outF);
    }
    // Rows in blocks small enough that a block read for token 0 is still in cache for token 1.
    int block = 32;
    int blocks = (outF + block - 1) / block;
    parallel.forEach(blocks, 2, (from, to) -> {
      for (int b = from; b < to; b++) {
        int r0 = b * block;
        int r1 = Math.min(outF, r0 + block);
        for (int t = 0; t < n; t++) {
          kernel.run(r0, r1, t);
          if (bias != null) {
            for (int r = r0; r < r1; r++) {
              os[t * outF + r] += bias[r];
            }
          }
        }
      }
    });
  }

  private void gemm(CpuWeight w, float[] xs, int n, float[] bias, float[] os) {
    int inF = w.cols();
    int outF = w.rows();
    int blocks = (n + TB - 1) / TB;
    int padded = blocks * TB;
    if (packedX.length < (long) padded * inF) {
      packedX = new float[Math.multiplyExact(padded, inF)];
    }
    float[] xt = packedX;
    // xt[b][k][lane] = x[b*TB + lane][k]; padding tokens are zero.
    parallel.forEach(blocks, 1, (b0, b1) -> {
      for (int b = b0; b < b1; b++) {
        int base = b * inF * TB;
        for (int lane = 0; lane < TB; lane++) {
          int t = b * TB + lane;
          if (t < n) {
            int src = t * inF;
            for (int k = 0; k < inF; k++) {
              xt[base + k * TB + lane] = xs[src + k];
            }
          } else {
            for (int k = 0; k < inF; k++) {
              xt[base + k * TB + lane] = 0f;
            }
          }
        }
      }
    });
    int panels = (outF + NR - 1) / NR;
    parallel.forEachWorker(panels, 1, (worker, p0, p1) -> {
      float[] wp = panel[worker];
      float[] tmp = rowTmp[worker];
      if (acc[worker].length < blocks * NR * TB) {
        acc[worker] = new float[blocks * NR * TB];
      }
      float[] c = acc[worker];
      for (int p = p0; p < p1; p++) {
        int row0 = p * NR;
        int rowsHere = Math.min(NR, outF - row0);
        for (int k0 = 0; k0 < inF; k0 += KC) {
          int kc = Math.min(KC, inF - k0);
          pack(w, row0, rowsHere, k0, kc, wp, tmp);
          for (int b = 0; b < blocks; b++) {
            kernel(xt, b * inF * TB + k0 * TB, wp, kc, c, b * NR * TB, k0 > 0);
          }
        }
        for (int b = 0; b < blocks; b++) {
          int tokens = Math.min(TB, n - b * TB);
          for (int r = 0; r < rowsHere; r++) {
            int row = row0 + r;
            float add = bias == null ? 0f : bias[row];
            int cb = b * NR * TB + r * TB;
            for (int lane = 0; lane < tokens; lane++) {
              os[(b * TB + lane) * outF + row] = c[cb + lane] + add;
            }
          }
        }
      }
    });
  }

  /** wp[k * NR + r] = W[row0 + r][k0 + k] as float32; rows past the end are zero. */
  private static void pack(CpuWeight w, int row0, int rows, int k0, int kc, float[] wp, float[] tmp) {
    for (int r = 0; r < NR; r++) {
      if (r < rows) {
        w.toFloats(row0 + r, k0, kc, tmp, 0);
        for (int k = 0; k < kc; k++) {
          wp[k * NR + r] = tmp[k];
        }
      } else {
        for (int k = 0; k < kc; k++) {
          wp[k * NR + r] = 0f;
        }
      }
    }
  }

  /**
   * c[r][v*VL + lane] (+)= sum over k < kc of wp[k][r] * xt[xo + k*TB + v*VL + lane], for NR rows
   * and two vectors of columns: 24 accumulators, 2 vector loads and 12 broadcasts per 24 FMAs.
   * Attention uses it too, with keys or head dimensions as the columns. The column stride is the
   * constant TB (callers lay their operands out in TB-wide panels): with a variable stride C2
   * keeps more address arithmetic in the loop and the kernel runs about 15% slower.
   */
  static void kernel(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
    FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
    FloatVector b00, b01, b10, b11, b20, b21, b30, b31, b40, b41, b50, b51;
    if (accumulate) {
      a00 = FloatVector.fromArray(FS, c, co);
      a01 = FloatVector.fromArray(FS, c, co + VL);
      a10 = FloatVector.fromArray(FS, c, co + 2 * VL);
      a11 = FloatVector.fromArray(FS, c, co + 3 * VL);
      a20 = FloatVector.fromArray(FS, c, co + 4 * VL);
      a21 = FloatVector.fromArray(FS, c, co + 5 * VL);
      a30 = FloatVector.fromArray(FS, c, co + 6 * VL);
      a31 = FloatVector.fromArray(FS, c, co + 7 * VL);
      a40 = FloatVector.fromArray(FS, c, co + 8 * VL);
      a41 = FloatVector.fromArray(FS, c, co + 9 * VL);
      a50 = FloatVector.fromArray(FS, c, co + 10 * VL);
      a51 = FloatVector.fromArray(FS, c, co + 11 * VL);
      b00 = FloatVector.fromArray(FS, c, co + 12 * VL);
      b01 = FloatVector.fromArray(FS, c, co + 13 * VL);
      b10 = FloatVector.fromArray(FS, c, co + 14 * VL);
      b11 = FloatVector.fromArray(FS, c, co + 15 * VL);
      b20 = FloatVector.fromArray(FS, c, co + 16 * VL);
      b21 = FloatVector.fromArray(FS, c, co + 17 * VL);
      b30 = FloatVector.fromArray(FS, c, co + 18 * VL);
      b31 = FloatVector.fromArray(FS, c, co + 19 * VL);
      b40 = FloatVector.fromArray(FS, c, co + 20 * VL);
      b41 = FloatVector.fromArray(FS, c, co + 21 * VL);
      b50 = FloatVector.fromArray(FS, c, co + 22 * VL);
      b51 = FloatVector.fromArray(FS, c, co + 23 * VL);
    } else {
      a00 = FloatVector.zero(FS);
      a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00;
      a50 = a00; a51 = a00; b00 = a00; b01 = a00; b10 = a00; b11 = a00; b20 = a00; b21 = a00; b30 = a00;
      b31 = a00; b40 = a00; b41 = a00; b50 = a00; b51 = a00;
    }
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * TB;
      int wi = k * NR;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + VL);
      FloatVector w = FloatVector.broadcast(FS, wp[wi]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(FS, wp[wi + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      w = FloatVector.broadcast(FS, wp[wi + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      w = FloatVector.broadcast(FS, wp[wi + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      w = FloatVector.broadcast(FS, wp[wi + 4]);
      a40 = x0.fma(w, a40);
      a41 = x1.fma(w, a41);
      w = FloatVector.broadcast(FS, wp[wi + 5]);
      a50 = x0.fma(w, a50);
      a51 = x1.fma(w, a51);
      w = FloatVector.broadcast(FS, wp[wi + 6]);
      b00 = x0.fma(w, b00);
      b01 = x1.fma(w, b01);
      w = FloatVector.broadcast(FS, wp[wi + 7]);
      b10 = x0.fma(w, b10);
      b11 = x1.fma(w, b11);
      w = FloatVector.broadcast(FS, wp[wi + 8]);
      b20 = x0.fma(w, b20);
      b21 = x1.fma(w, b21);
      w = FloatVector.broadcast(FS, wp[wi + 9]);
      b30 = x0.fma(w, b30);
      b31 = x1.fma(w, b31);
      w = FloatVector.broadcast(FS, wp[wi + 10]);
      b40 = x0.fma(w, b40);
      b41 = x1.fma(w, b41);
      w = FloatVector.broadcast(FS, wp[wi + 11]);
      b50 = x0.fma(w, b50);
      b51 = x1.fma(w, b51);
    }
    a00.intoArray(c, co);
    a01.intoArray(c, co + VL);
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
    b00.intoArray(c, co + 12 * VL);
    b01.intoArray(c, co + 13 * VL);
    b10.intoArray(c, co + 14 * VL);
    b11.intoArray(c, co + 15 * VL);
    b20.intoArray(c, co + 16 * VL);
    b21.intoArray(c, co + 17 * VL);
    b30.intoArray(c, co + 18 * VL);
    b31.intoArray(c, co + 19 * VL);
    b40.intoArray(c, co + 20 * VL);
    b41.intoArray(c, co + 21 * VL);
    b50.intoArray(c, co + 22 * VL);
    b51.intoArray(c, co + 23 * VL);
  }
}
