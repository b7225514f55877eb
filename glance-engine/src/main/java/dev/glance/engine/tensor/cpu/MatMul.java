package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * out = x W^T (+ bias) for every weight format. Few rows (decode, small batches) take a
 * weight-streaming path: each row of W is read once from memory and dotted with every token.
 * Many rows (prefill, the vision tower) take a register-tiled matrix-matrix path: the tokens are
 * packed transposed so a vector holds one column for {@link #TB} tokens, each panel of
 * {@link #NR} weight rows is converted to float32 once per {@link #KC}-wide slice, row by row,
 * and a micro-kernel keeps NR x TB sums in registers while it broadcasts weights against token
 * vectors. NR follows the vector register count (the tile must not spill). The converted panel is reused by every token block, so the cost of
 * reading BF16 or dequantising Q8_0/Q4_0 is paid once per weight, not once per token.
 */
final class MatMul {
  static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  static final int VL = FS.length();
  /** Tokens per micro-tile: two vectors. */
  static final int TB = 2 * VL;
  /**
   * Vector registers of the instruction set: 32 with AVX-512 (the only x86 with 16-float
   * vectors) and on AArch64, 16 with AVX2/AVX.
   */
  static final int REGISTERS = VL >= 16 || "aarch64".equals(System.getProperty("os.arch")) ? 32 : 16;
  /**
   * Weight rows per micro-tile, so that NR x 2 accumulators, the token vectors and the weight
   * broadcasts fit the registers: 12 with 32 registers, 4 with 16 (see {@link #kernel4}).
   */
  static final int NR = REGISTERS >= 32 ? 12 : 4;
  /** Reduction slice: an NR x KC packed panel stays in L1 while every token block passes. */
  static final int KC = 256;
  /**
   * Tokens whose KC-slice (GROUP_TOKENS x KC floats, 256 KiB) the panels of a chunk share from
   * L2; longer prompts are done in groups of this many, repacking each panel once per group.
   */
  static final int GROUP_TOKENS = 256;
  /** Panels that share one pass over a token group: their sums (c) wait between slices. */
  static final int CHUNK_PANELS = 16;
  /**
   * From this many tokens on, the matrix-matrix path wins over converting each weight row once
   * and dotting it with every token ({@link #streamTokens}); one token streams rows directly.
   * Measured on AVX2 (13696 x 2048, one thread): at 10 tokens both cost about the same for BF16
   * and Q8_0, at 16 the matrix-matrix path is 1.8x faster for BF16, at 8 streaming is 1.1x (BF16)
   * to 1.5x (Q8_0) faster. With AVX-512 (Zen 4, two threads, weights from DRAM) streaming wins up
   * to 32 tokens since the eight-token BF16 tile: 6848 x 2048 at 24 tokens 4.1 ms against 6.7 as
   * one matrix-matrix block, at 32 5.5 against 6.7 (2048 x 6848: 3.8 / 6.9 and 5.0 / 6.8); the
   * whole mid model's prefill of 24 and 32 tokens, BF16, 618-622 and 620-642 ms against 376-378
   * and 490, Q8_0 (through the scratch) 579 and 581 against 415 and 505.
   */
  static final int GEMM_MIN_ROWS = REGISTERS >= 32 ? 33 : 10;
  /** Weight rows converted and dotted together on the few-token path: 4 with 32 registers, else 2. */
  static final int STREAM_ROWS = REGISTERS >= 32 ? 4 : 2;
  /**
   * Up to this many tokens, a format with an in-place tile ({@link CpuWeight#dotTile}) reads its
   * rows directly, widening them again for every four tokens, instead of converting them to the
   * float scratch once. Measured in the whole mid model, BF16, ms per step, alternated runs: on
   * AVX-512 in place won at 4 sequences (126/173 vs 198/204) and lost at 8 (218/296 vs 253/244);
   * on AVX2 (two rows, so the rows stay in L1 between passes) it won at 4 (342/294 vs 424/389)
   * and at 8 (530/507 vs 655/588). Q8_0 has the tile on 32 registers since session 10 (mid-shaped
   * matrices, two threads, 2 and 4 tokens: 103-124 ms against 154-158 through the scratch).
   */
  static final int IN_PLACE_TOKENS = REGISTERS >= 32 ? 4 : 8;
  /**
   * Above {@link #IN_PLACE_TOKENS} and up to this many tokens (every streamed count on 32
   * registers), a format with an eight-token tile ({@link CpuWeight#dotTile8}: BF16 and Q8_0 on
   * 32 registers) reads its rows in place, eight tokens per pass, instead of converting them to
   * the scratch. Whole mid model, BF16, AVX-512, ms per batched step, runs alternated: 8
   * sequences 257/273 through the scratch against 196/213 in place, 16 sequences 609/432 against
   * 327/359; Q8_0, eight tokens against 0.71 GB of matrices in one JVM, 168-183 against 111-132.
   */
  static final int IN_PLACE8_TOKENS = 32;
  /**
   * Where a matrix-matrix call's last token block would hold at most this many tokens, they
   * stream instead ({@link #streamTokens}) and the tiles take the whole blocks before them: a
   * block costs about as much full as nearly empty, and streaming up to 16 tokens costs less
   * than one more block (32 registers: 6848 x 2048 from DRAM, two threads, 39 tokens 10.5 ms as
   * two blocks against 8.5 as one block and 7 streamed; the whole mid model's prefill of 39
   * tokens 979-986 ms against 773-788). 0 with 16 registers, where it was not measured.
   */
  static final int STREAM_TAIL = REGISTERS >= 32 ? 16 : 0;

  private final ParallelRange parallel;
  private float[] packedX = new float[0];
  private final float[][] panel;
  private final float[][] acc;
  private final float[][] rowScratch;
  /** Per worker: the sums one few-token tile hands back ({@link CpuWeight#TILE8_SCRATCH} floats). */
  private final float[][] tileSums;
  /** The tokens of a few-token call, interleaved ({@link #interleave}), reused across calls. */
  private float[] tileX = new float[0];
  /** What Q4_0's float kernel needs of the decode vector ({@link CpuWeight.Q4#fold}), reused across calls. */
  private float[] q4Folded = new float[0];
  /** The decode vector(s) quantised for block-format weights, reused across calls. */
  private final Q8Rows quantizedX = new Q8Rows();

  /** One call of a row kernel: rows [r0, r1) of the weight against the one token. */
  private interface RowKernel {
    void run(int r0, int r1);
  }

  MatMul(ParallelRange parallel) {
    this.parallel = parallel;
    int t = parallel.threads();
    panel = new float[t][KC * NR];
    acc = new float[t][0];
    rowScratch = new float[t][0];
    tileSums = new float[t][CpuWeight.TILE8_SCRATCH];
  }

  /**
   * x [n][inF] (row-major, from xs), W [outF][inF], out [n][outF]; bias may be null. The path
   * follows the token count: one streams rows, up to {@link #GEMM_MIN_ROWS} stream tokens, more
   * go through the tiles, with a short last block streamed ({@link #STREAM_TAIL}).
   */
  synchronized void linear(CpuWeight w, float[] xs, int n, float[] bias, float[] os) {
    if (n == 1) {
      streamRows(w, xs, bias, os);
    } else if (n < GEMM_MIN_ROWS) {
      streamTokens(w, xs, 0, n, bias, os);
    } else if (n % TB != 0 && n % TB <= STREAM_TAIL) {
      int whole = n - n % TB;
      gemm(w, xs, whole, bias, os);
      streamTokens(w, xs, whole, n, bias, os);
    } else {
      gemm(w, xs, n, bias, os);
    }
  }

  /** One token (decode): every weight row is read once and dotted with x. */
  private void streamRows(CpuWeight w, float[] xs, float[] bias, float[] os) {
    RowKernel kernel;
    if (w instanceof CpuWeight.IntDot q && q.integerDecode()) {
      // Block formats multiply in integer lanes against x quantised here, once per call, and
      // shared by every row and thread (see CpuWeight.IntDot).
      quantizedX.quantize(xs, 1, w.cols());
      short[] xq = quantizedX.values();
      float[] xd = quantizedX.scales();
      kernel = (r0, r1) -> q.dotRowsInt8(r0, r1, xq, xd, 0, os, 0);
    } else if (w instanceof CpuWeight.Q4 q4 && CpuWeight.Q4.HALVES > 0) {
      // Q4_0's float kernel takes per-block vectors made from x (CpuWeight.Q4.fold), made here
      // once per call and shared by every row and thread.
      int len = CpuWeight.Q4.foldLength(w.cols());
      if (q4Folded.length < len) {
        q4Folded = new float[len];
      }
      float[] folded = q4Folded;
      CpuWeight.Q4.fold(xs, 0, w.cols(), folded);
      kernel = (r0, r1) -> q4.dotRowsFolded(r0, r1, xs, 0, folded, os, 0);
    } else {
      kernel = (r0, r1) -> w.dotRows(r0, r1, xs, 0, os, 0);
    }
    // Rows are handed out in chunks of whole 32-row blocks, and each chunk goes to the kernel
    // whole, so that its row streams (CpuWeight.STREAMS, Q4.ROWS) are far apart.
    int block = 32;
    int outF = w.rows();
    parallel.forEach((outF + block - 1) / block, 2, (from, to) -> {
      int r0 = from * block;
      int r1 = Math.min(outF, to * block);
      kernel.run(r0, r1);
      if (bias != null) {
        for (int r = r0; r < r1; r++) {
          os[r] += bias[r];
        }
      }
    });
  }

  /**
   * Tokens [first, n) of x against every row, into the same tokens' rows of os: a few tokens (a
   * batched decode step, or the short last block of a longer call). Each group of {@link
   * #STREAM_ROWS} weight rows is converted to float32 once, into per-worker scratch, and dotted
   * with up to four tokens at a time, so BF16 widening or Q8_0/Q4_0 dequantisation is paid once
   * per weight instead of once per token. With 32 registers four rows share each token load (16
   * sums, {@link #dot4x4}); with 16, two ({@link #dot2x4}). A format with an in-place tile widens
   * in registers instead, without the scratch copy: up to {@link #IN_PLACE_TOKENS} tokens four at
   * a time ({@link CpuWeight#dotTile}), up to {@link #IN_PLACE8_TOKENS} eight at a time ({@link
   * CpuWeight#dotTile8}). Every path reads the tokens interleaved ({@link #interleave}, once per
   * call), so a step's token loads are one stream.
   */
  private void streamTokens(CpuWeight w, float[] xs, int first, int n, float[] bias, float[] os) {
    int inF = w.cols();
    int outF = w.rows();
    int block = 32;
    int blocks = (outF + block - 1) / block;
    // Past four tokens (on 32 registers) a format with an eight-token tile reads its rows in
    // place, eight tokens per pass, in groups of its own row count.
    boolean inPlace8 = n - first > IN_PLACE_TOKENS && n - first <= IN_PLACE8_TOKENS && w.tile8Rows() > 0;
    int step = inPlace8 ? w.tile8Rows() : STREAM_ROWS;
    // Every path reads the tokens interleaved: in groups of eight for the eight-token tile, of
    // four for the others.
    boolean inPlace4 = !inPlace8 && n - first <= IN_PLACE_TOKENS && w.tileRows() == STREAM_ROWS;
    int width = inPlace8 ? 8 : 4;
    int groupFloats = width * ((inF + VL - 1) / VL * VL);
    int groups = (n - first + width - 1) / width;
    if (tileX.length < groups * groupFloats) {
      tileX = new float[groups * groupFloats];
    }
    for (int g = 0; g < groups; g++) {
      interleave(xs, inF, first + width * g, Math.min(width, n - first - width * g), width, tileX, g * groupFloats);
    }
    float[] interleaved = tileX;
    parallel.forEachWorker(blocks, 2, (worker, from, to) -> {
      if (rowScratch[worker].length < STREAM_ROWS * inF && !inPlace8) {
        rowScratch[worker] = new float[STREAM_ROWS * inF];
      }
      float[] wr = rowScratch[worker];
      float[] sums = tileSums[worker];
      if (inPlace8) {
        // The tile's rows come from the thirds of the chunk, far apart: three independent memory
        // streams (rows left over go in adjacent groups).
        int c0 = from * block;
        int c1 = Math.min(outF, to * block);
        int third = (c1 - c0) / step;
        int rest = c0 + step * third;
        int tiles = third + (c1 - rest + step - 1) / step;
        for (int g = 0; g < tiles; g++) {
          boolean spread = g < third;
          int r = spread ? c0 + g : rest + (g - third) * step;
          int gap = spread ? third : 1;
          int rows = spread ? step : Math.min(step, c1 - r);
          for (int t0 = first; t0 < n; t0 += 8) {
            // Missing rows repeat row r (and missing tokens token t0); their sums are dropped.
            w.dotTile8(r, rows, gap, interleaved, (t0 - first) / 8 * groupFloats, sums);
            storeTile(sums, 8, rows, gap, Math.min(8, n - t0), r, t0, bias, os, outF);
          }
        }
        return;
      }
      for (int b = from; b < to; b++) {
        int r1 = Math.min(outF, b * block + block);
        for (int r = b * block; r < r1; r += step) {
          int rows = Math.min(STREAM_ROWS, r1 - r);
          // A format with an in-place tile reads its rows directly up to IN_PLACE_TOKENS tokens;
          // with more, each pass would widen the rows again, and the scratch copy wins.
          if (!inPlace4) {
            for (int i = 0; i < rows; i++) {
              w.toFloats(r + i, 0, inF, wr, i * inF);
            }
          }
          for (int t0 = first; t0 < n; t0 += 4) {
            // Missing rows repeat row 0 (and missing tokens token t0); their sums are dropped.
            int x0 = (t0 - first) / 4 * groupFloats;
            if (inPlace4) {
              w.dotTile(r, rows, interleaved, x0, sums);
            } else if (STREAM_ROWS == 4) {
              dot4x4(wr, rows > 1 ? inF : 0, rows > 2 ? 2 * inF : 0, rows > 3 ? 3 * inF : 0, inF, interleaved, x0, sums);
            } else {
              dot2x4(wr, rows > 1 ? inF : 0, inF, interleaved, x0, sums);
            }
            storeTile(sums, 4, rows, 1, Math.min(4, n - t0), r, t0, bias, os, outF);
          }
        }
      }
    });
  }

  /**
   * Tokens [t0, t0 + tokens) of x (rows of inF) into dst[d ..] as the few-token kernels read them
   * (width 4: {@link CpuWeight#dotTile}, {@link #dot4x4}, {@link #dot2x4}; width 8: {@link
   * CpuWeight#dotTile8}): for every VL columns, {@code width} vectors, one per token, the columns
   * past the last whole vector likewise, each token's in its own vector's place. The missing
   * tokens of a short group repeat token t0. A kernel's token loads in one step then read
   * consecutive memory (one stream) instead of rows of x far apart.
   */
  static void interleave(float[] xs, int inF, int t0, int tokens, int width, float[] dst, int d) {
    for (int j = 0; j < width; j++) {
      int src = (t0 + (j < tokens ? j : 0)) * inF;
      for (int k = 0; k < inF; k += VL) {
        System.arraycopy(xs, src + k, dst, d + width * k + j * VL, Math.min(VL, inF - k));
      }
    }
  }


  /**
   * os[token t0 + t][row r + i * gap] = sums[width * i + t] (+ bias) for the rows and tokens a
   * few-token tile computed; the sums of repeated rows and tokens are left out.
   */
  private static void storeTile(float[] sums, int width, int rows, int gap, int tokens, int r, int t0,
      float[] bias, float[] os, int outF) {
    for (int i = 0; i < rows; i++) {
      int row = r + i * gap;
      float add = bias == null ? 0f : bias[row];
      for (int t = 0; t < tokens; t++) {
        os[(t0 + t) * outF + row] = sums[width * i + t] + add;
      }
    }
  }

  /**
   * As {@link #dot2x4} for four weight rows (at 0, w1, w2, w3): 16 accumulators, so each token
   * load feeds four FMAs instead of two. Needs 32 vector registers (16 sums, 4 rows, a token).
   */
  static void dot4x4(float[] wr, int w1, int w2, int w3, int len, float[] xs, int x0, float[] sums) {
    FloatVector a00 = FloatVector.zero(FS);
    FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    int upper = FS.loopBound(len);
    int k = 0;
    for (; k < upper; k += VL) {
      FloatVector v0 = FloatVector.fromArray(FS, wr, k);
      FloatVector v1 = FloatVector.fromArray(FS, wr, w1 + k);
      FloatVector v2 = FloatVector.fromArray(FS, wr, w2 + k);
      FloatVector v3 = FloatVector.fromArray(FS, wr, w3 + k);
      FloatVector x = FloatVector.fromArray(FS, xs, x0 + 4 * k);
      a00 = v0.fma(x, a00);
      a10 = v1.fma(x, a10);
      a20 = v2.fma(x, a20);
      a30 = v3.fma(x, a30);
      x = FloatVector.fromArray(FS, xs, x0 + 4 * k + 1 * VL);
      a01 = v0.fma(x, a01);
      a11 = v1.fma(x, a11);
      a21 = v2.fma(x, a21);
      a31 = v3.fma(x, a31);
      x = FloatVector.fromArray(FS, xs, x0 + 4 * k + 2 * VL);
      a02 = v0.fma(x, a02);
      a12 = v1.fma(x, a12);
      a22 = v2.fma(x, a22);
      a32 = v3.fma(x, a32);
      x = FloatVector.fromArray(FS, xs, x0 + 4 * k + 3 * VL);
      a03 = v0.fma(x, a03);
      a13 = v1.fma(x, a13);
      a23 = v2.fma(x, a23);
      a33 = v3.fma(x, a33);
    }
    float s00 = a00.reduceLanes(VectorOperators.ADD);
    float s01 = a01.reduceLanes(VectorOperators.ADD);
    float s02 = a02.reduceLanes(VectorOperators.ADD);
    float s03 = a03.reduceLanes(VectorOperators.ADD);
    float s10 = a10.reduceLanes(VectorOperators.ADD);
    float s11 = a11.reduceLanes(VectorOperators.ADD);
    float s12 = a12.reduceLanes(VectorOperators.ADD);
    float s13 = a13.reduceLanes(VectorOperators.ADD);
    float s20 = a20.reduceLanes(VectorOperators.ADD);
    float s21 = a21.reduceLanes(VectorOperators.ADD);
    float s22 = a22.reduceLanes(VectorOperators.ADD);
    float s23 = a23.reduceLanes(VectorOperators.ADD);
    float s30 = a30.reduceLanes(VectorOperators.ADD);
    float s31 = a31.reduceLanes(VectorOperators.ADD);
    float s32 = a32.reduceLanes(VectorOperators.ADD);
    float s33 = a33.reduceLanes(VectorOperators.ADD);
    // The columns past the last whole vector lie token by token after the interleaved ones.
    int xt = x0 + 4 * upper;
    for (; k < len; k++) {
      float v0 = wr[k];
      float v1 = wr[w1 + k];
      float v2 = wr[w2 + k];
      float v3 = wr[w3 + k];
      float y0 = xs[xt + k - upper];
      float y1 = xs[xt + 1 * VL + k - upper];
      float y2 = xs[xt + 2 * VL + k - upper];
      float y3 = xs[xt + 3 * VL + k - upper];
      s00 += v0 * y0;
      s01 += v0 * y1;
      s02 += v0 * y2;
      s03 += v0 * y3;
      s10 += v1 * y0;
      s11 += v1 * y1;
      s12 += v1 * y2;
      s13 += v1 * y3;
      s20 += v2 * y0;
      s21 += v2 * y1;
      s22 += v2 * y2;
      s23 += v2 * y3;
      s30 += v3 * y0;
      s31 += v3 * y1;
      s32 += v3 * y2;
      s33 += v3 * y3;
    }
    sums[0] = s00;
    sums[1] = s01;
    sums[2] = s02;
    sums[3] = s03;
    sums[4] = s10;
    sums[5] = s11;
    sums[6] = s12;
    sums[7] = s13;
    sums[8] = s20;
    sums[9] = s21;
    sums[10] = s22;
    sums[11] = s23;
    sums[12] = s30;
    sums[13] = s31;
    sums[14] = s32;
    sums[15] = s33;
  }

  /**
   * sums[4 * i + j] = dot(wr[w1 * i ..], token j) over len for weight rows i = 0, 1 (the second
   * at offset w1) and four tokens interleaved from xs[x0 ..] ({@link #interleave}, width 4): 8
   * accumulators, 2 weight loads and 4 token loads per 8 FMAs, within 16 registers.
   */
  static void dot2x4(float[] wr, int w1, int len, float[] xs, int x0, float[] sums) {
    FloatVector a00 = FloatVector.zero(FS);
    FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    int upper = FS.loopBound(len);
    int k = 0;
    for (; k < upper; k += VL) {
      FloatVector v0 = FloatVector.fromArray(FS, wr, k);
      FloatVector v1 = FloatVector.fromArray(FS, wr, w1 + k);
      FloatVector x = FloatVector.fromArray(FS, xs, x0 + 4 * k);
      a00 = v0.fma(x, a00);
      a10 = v1.fma(x, a10);
      x = FloatVector.fromArray(FS, xs, x0 + 4 * k + 1 * VL);
      a01 = v0.fma(x, a01);
      a11 = v1.fma(x, a11);
      x = FloatVector.fromArray(FS, xs, x0 + 4 * k + 2 * VL);
      a02 = v0.fma(x, a02);
      a12 = v1.fma(x, a12);
      x = FloatVector.fromArray(FS, xs, x0 + 4 * k + 3 * VL);
      a03 = v0.fma(x, a03);
      a13 = v1.fma(x, a13);
    }
    float s00 = a00.reduceLanes(VectorOperators.ADD);
    float s01 = a01.reduceLanes(VectorOperators.ADD);
    float s02 = a02.reduceLanes(VectorOperators.ADD);
    float s03 = a03.reduceLanes(VectorOperators.ADD);
    float s10 = a10.reduceLanes(VectorOperators.ADD);
    float s11 = a11.reduceLanes(VectorOperators.ADD);
    float s12 = a12.reduceLanes(VectorOperators.ADD);
    float s13 = a13.reduceLanes(VectorOperators.ADD);
    // The columns past the last whole vector lie token by token after the interleaved ones.
    int xt = x0 + 4 * upper;
    for (; k < len; k++) {
      float v0 = wr[k];
      float v1 = wr[w1 + k];
      s00 += v0 * xs[xt + k - upper];
      s01 += v0 * xs[xt + 1 * VL + k - upper];
      s02 += v0 * xs[xt + 2 * VL + k - upper];
      s03 += v0 * xs[xt + 3 * VL + k - upper];
      s10 += v1 * xs[xt + k - upper];
      s11 += v1 * xs[xt + 1 * VL + k - upper];
      s12 += v1 * xs[xt + 2 * VL + k - upper];
      s13 += v1 * xs[xt + 3 * VL + k - upper];
    }
    sums[0] = s00;
    sums[1] = s01;
    sums[2] = s02;
    sums[3] = s03;
    sums[4] = s10;
    sums[5] = s11;
    sums[6] = s12;
    sums[7] = s13;
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
    int groupBlocks = Math.max(1, GROUP_TOKENS / TB);
    // Up to CHUNK_PANELS panels go slice by slice (KC) and, within a slice, each against one group
    // of token blocks, so the group's tokens for that slice stay in L2 while every panel passes.
    parallel.forEachWorker(panels, 1, (worker, from, to) -> {
      float[] wp = panel[worker];
      int perPanel = blocks * NR * TB;
      if (acc[worker].length < CHUNK_PANELS * perPanel) {
        acc[worker] = new float[CHUNK_PANELS * perPanel];
      }
      float[] c = acc[worker];
      for (int p0 = from; p0 < to; p0 += CHUNK_PANELS) {
        int p1 = Math.min(to, p0 + CHUNK_PANELS);
        for (int g0 = 0; g0 < blocks; g0 += groupBlocks) {
          int g1 = Math.min(blocks, g0 + groupBlocks);
          for (int k0 = 0; k0 < inF; k0 += KC) {
            int kc = Math.min(KC, inF - k0);
            for (int p = p0; p < p1; p++) {
              pack(w, p * NR, Math.min(NR, outF - p * NR), k0, kc, wp);
              int cp = (p - p0) * perPanel;
              for (int b = g0; b < g1; b++) {
                panelKernel(xt, b * inF * TB + k0 * TB, wp, kc, c, cp + b * NR * TB, k0 > 0);
              }
            }
          }
        }
        for (int p = p0; p < p1; p++) {
          int row0 = p * NR;
          int rowsHere = Math.min(NR, outF - row0);
          for (int b = 0; b < blocks; b++) {
            int tokens = Math.min(TB, n - b * TB);
            for (int r = 0; r < rowsHere; r++) {
              int row = row0 + r;
              float add = bias == null ? 0f : bias[row];
              int cb = (p - p0) * perPanel + b * NR * TB + r * TB;
              for (int lane = 0; lane < tokens; lane++) {
                os[(b * TB + lane) * outF + row] = c[cb + lane] + add;
              }
            }
          }
        }
      }
    });
  }

  /**
   * wp[r * KC + k] = W[row0 + r][k0 + k] as float32; rows past the end are zero. Row by row, so
   * packing is one vectorised conversion per row: an interleaved [k][r] panel took a scalar
   * transposing copy that cost a quarter of a 128-token product on AVX2.
   */
  private static void pack(CpuWeight w, int row0, int rows, int k0, int kc, float[] wp) {
    for (int r = 0; r < NR; r++) {
      if (r < rows) {
        w.toFloats(row0 + r, k0, kc, wp, r * KC);
      } else {
        Arrays.fill(wp, r * KC, r * KC + kc, 0f);
      }
    }
  }

  /**
   * As {@link #kernel}, with the weights of row r at wp[r * KC + k] (a panel packed by
   * {@link #pack}); the row stride is the constant KC, so the broadcasts use fixed offsets.
   */
  static void panelKernel(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
    if (NR == 12) {
      panelKernel12(xt, xo, wp, kc, c, co, accumulate);
    } else {
      panelKernel4(xt, xo, wp, kc, c, co, accumulate);
    }
  }

  /**
   * c[r][v*VL + lane] (+)= sum over k < kc of wp[k][r] * xt[xo + k*TB + v*VL + lane], for NR rows
   * and two vectors of columns, with the tile for this machine's registers (a constant, so C2
   * keeps only one branch).
   * Attention uses it too, with keys or head dimensions as the columns. The column stride is the
   * constant TB (callers lay their operands out in TB-wide panels): with a variable stride C2
   * keeps more address arithmetic in the loop and the kernel runs about 15% slower.
   */
  static void kernel(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
    if (NR == 12) {
      kernel12(xt, xo, wp, kc, c, co, accumulate);
    } else {
      kernel4(xt, xo, wp, kc, c, co, accumulate);
    }
  }

  /** The 12-row tile for 32 vector registers: 24 accumulators, 2 vector loads and 12 broadcasts per 24 FMAs. */
  static void kernel12(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
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
      int wi = k * 12;
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

  /**
   * The 4-row tile for 16 vector registers: 8 accumulators, 2 token vectors and the 4 broadcasts
   * C2 hoists to the top of the loop make 14, so nothing spills; 8 independent FMA chains cover
   * the FMA latency (4 cycles x 2 pipes). Measured on AVX2 (MicroTileBench): larger tiles spill
   * and run at less than half the speed.
   */
  static void kernel4(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
    FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
    if (accumulate) {
      a00 = FloatVector.fromArray(FS, c, co);
      a01 = FloatVector.fromArray(FS, c, co + 1 * VL);
      a10 = FloatVector.fromArray(FS, c, co + 2 * VL);
      a11 = FloatVector.fromArray(FS, c, co + 3 * VL);
      a20 = FloatVector.fromArray(FS, c, co + 4 * VL);
      a21 = FloatVector.fromArray(FS, c, co + 5 * VL);
      a30 = FloatVector.fromArray(FS, c, co + 6 * VL);
      a31 = FloatVector.fromArray(FS, c, co + 7 * VL);
    } else {
      a00 = FloatVector.zero(FS);
      a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00;
    }
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * TB;
      int wi = k * 4;
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
    }
    a00.intoArray(c, co);
    a01.intoArray(c, co + 1 * VL);
    a10.intoArray(c, co + 2 * VL);
    a11.intoArray(c, co + 3 * VL);
    a20.intoArray(c, co + 4 * VL);
    a21.intoArray(c, co + 5 * VL);
    a30.intoArray(c, co + 6 * VL);
    a31.intoArray(c, co + 7 * VL);
  }

  /** {@link #kernel4} on a panel stored row by row ({@link #panelKernel}). */
  static void panelKernel4(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
    FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
    if (accumulate) {
      a00 = FloatVector.fromArray(FS, c, co);
      a01 = FloatVector.fromArray(FS, c, co + 1 * VL);
      a10 = FloatVector.fromArray(FS, c, co + 2 * VL);
      a11 = FloatVector.fromArray(FS, c, co + 3 * VL);
      a20 = FloatVector.fromArray(FS, c, co + 4 * VL);
      a21 = FloatVector.fromArray(FS, c, co + 5 * VL);
      a30 = FloatVector.fromArray(FS, c, co + 6 * VL);
      a31 = FloatVector.fromArray(FS, c, co + 7 * VL);
    } else {
      a00 = FloatVector.zero(FS);
      a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00;
    }
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * TB;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + VL);
      FloatVector w = FloatVector.broadcast(FS, wp[k]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(FS, wp[k + KC]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      w = FloatVector.broadcast(FS, wp[k + 2 * KC]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      w = FloatVector.broadcast(FS, wp[k + 3 * KC]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
    }
    a00.intoArray(c, co);
    a01.intoArray(c, co + 1 * VL);
    a10.intoArray(c, co + 2 * VL);
    a11.intoArray(c, co + 3 * VL);
    a20.intoArray(c, co + 4 * VL);
    a21.intoArray(c, co + 5 * VL);
    a30.intoArray(c, co + 6 * VL);
    a31.intoArray(c, co + 7 * VL);
  }

  /** {@link #kernel12} on a panel stored row by row ({@link #panelKernel}). */
  static void panelKernel12(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate) {
    FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71, a80, a81, a90, a91, a100, a101, a110, a111;
    if (accumulate) {
      a00 = FloatVector.fromArray(FS, c, co);
      a01 = FloatVector.fromArray(FS, c, co + 1 * VL);
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
      a60 = FloatVector.fromArray(FS, c, co + 12 * VL);
      a61 = FloatVector.fromArray(FS, c, co + 13 * VL);
      a70 = FloatVector.fromArray(FS, c, co + 14 * VL);
      a71 = FloatVector.fromArray(FS, c, co + 15 * VL);
      a80 = FloatVector.fromArray(FS, c, co + 16 * VL);
      a81 = FloatVector.fromArray(FS, c, co + 17 * VL);
      a90 = FloatVector.fromArray(FS, c, co + 18 * VL);
      a91 = FloatVector.fromArray(FS, c, co + 19 * VL);
      a100 = FloatVector.fromArray(FS, c, co + 20 * VL);
      a101 = FloatVector.fromArray(FS, c, co + 21 * VL);
      a110 = FloatVector.fromArray(FS, c, co + 22 * VL);
      a111 = FloatVector.fromArray(FS, c, co + 23 * VL);
    } else {
      a00 = FloatVector.zero(FS);
      a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00;
      a50 = a00; a51 = a00; a60 = a00; a61 = a00; a70 = a00; a71 = a00; a80 = a00; a81 = a00; a90 = a00;
      a91 = a00; a100 = a00; a101 = a00; a110 = a00; a111 = a00;
    }
    for (int k = 0; k < kc; k++) {
      int xi = xo + k * TB;
      FloatVector x0 = FloatVector.fromArray(FS, xt, xi);
      FloatVector x1 = FloatVector.fromArray(FS, xt, xi + VL);
      FloatVector w = FloatVector.broadcast(FS, wp[k]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(FS, wp[k + KC]);
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
      w = FloatVector.broadcast(FS, wp[k + 6 * KC]);
      a60 = x0.fma(w, a60);
      a61 = x1.fma(w, a61);
      w = FloatVector.broadcast(FS, wp[k + 7 * KC]);
      a70 = x0.fma(w, a70);
      a71 = x1.fma(w, a71);
      w = FloatVector.broadcast(FS, wp[k + 8 * KC]);
      a80 = x0.fma(w, a80);
      a81 = x1.fma(w, a81);
      w = FloatVector.broadcast(FS, wp[k + 9 * KC]);
      a90 = x0.fma(w, a90);
      a91 = x1.fma(w, a91);
      w = FloatVector.broadcast(FS, wp[k + 10 * KC]);
      a100 = x0.fma(w, a100);
      a101 = x1.fma(w, a101);
      w = FloatVector.broadcast(FS, wp[k + 11 * KC]);
      a110 = x0.fma(w, a110);
      a111 = x1.fma(w, a111);
    }
    a00.intoArray(c, co);
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
    a80.intoArray(c, co + 16 * VL);
    a81.intoArray(c, co + 17 * VL);
    a90.intoArray(c, co + 18 * VL);
    a91.intoArray(c, co + 19 * VL);
    a100.intoArray(c, co + 20 * VL);
    a101.intoArray(c, co + 21 * VL);
    a110.intoArray(c, co + 22 * VL);
    a111.intoArray(c, co + 23 * VL);
  }
}
