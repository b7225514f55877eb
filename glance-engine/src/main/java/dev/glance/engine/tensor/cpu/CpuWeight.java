package dev.glance.engine.tensor.cpu;

import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.Weight;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix in one storage format, read in place (from the mapped checkpoint, or from
 * off-heap memory holding quantised blocks). Each format has two kernels: a row-by-vector dot
 * product for decode, where the weights stream from memory once, and a conversion of a row
 * segment to float32, which the matrix-matrix kernel uses to pack panels it then reuses across
 * many tokens.
 */
sealed interface CpuWeight extends Weight
    permits CpuWeight.F32, CpuWeight.BF16, CpuWeight.F16, CpuWeight.IntDot, CpuWeight.Vec {

  /**
   * A block format with a decode kernel that takes the vector already quantised to Q8 blocks
   * ({@link Q8Rows}) and multiplies in integer lanes, as llama.cpp does: converting every weight
   * to float costs more instructions than the memory system needs cycles to deliver it.
   */
  sealed interface IntDot extends CpuWeight permits Q8, Q4 {
    /**
     * out[outOff + r] = row r . x for r in [r0, r1), x given as int8 values widened to shorts
     * ({@code xq} from value {@code xBlock * 32}) and one scale per block ({@code xd} from
     * {@code xBlock}).
     */
    void dotRowsInt8(int r0, int r1, short[] xq, float[] xd, int xBlock, float[] out, int outOff);

    /** Whether decode uses {@link #dotRowsInt8} for this format (else the float {@link #dotRows}). */
    boolean integerDecode();
  }

  VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  int VL = FS.length();
  VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, VL * 16)));
  VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
  /** Bytes that widen to one float vector; absent (null) where the shape does not exist. */
  VectorSpecies<Byte> BS = VL * 8 >= 64 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(VL * 8)) : null;
  /**
   * Rows a decode kernel reads at once, each from its own quarter of the row range it is given:
   * independent sequential streams, so the hardware prefetchers keep more lines in flight.
   */
  int STREAMS = 4;
  /** Whether the vector paths for 16-bit and 8-bit formats apply (lane counts line up). */
  boolean WIDE = VL >= 8 && VL <= 32 && SS.length() == VL && BS != null;
  ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  /**
   * The integer decode path works on 256-bit vectors whatever the preferred width: 16 bytes of a
   * block widen to 16 shorts, and pairs of 16-bit products add up to 8 ints, one float vector.
   */
  VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
  VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
  VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
  /** Whether 256-bit vectors are native, so the integer path compiles to vector instructions. */
  boolean INT8 = VL >= 8;
  /**
   * Which formats decode through the integer kernels, chosen by measurement (docs/PERFORMANCE.md):
   * on the 2-core AVX2 development machine Q4_0's integer kernel was never slower end to end, while
   * Q8_0's float kernel decoded faster in every A/B pair (the integer one wins only on cache-resident
   * sizes). With 512-bit vectors the float kernels win for both (mid Q4_0 decode on a 2-core
   * AVX-512 machine: 14.6-16.2 tok/s float against 9.1-9.4 integer, pairs run back to back): the
   * integer path works on 256-bit vectors whatever the width. {@code -Dglance.int8.q8=true|false}
   * and {@code -Dglance.int8.q4=true|false} override the choice for such A/B runs.
   */
  boolean INT8_Q8 = INT8 && Boolean.parseBoolean(System.getProperty("glance.int8.q8", "false"));
  boolean INT8_Q4 = INT8 && Boolean.parseBoolean(System.getProperty("glance.int8.q4", String.valueOf(VL < 16)));

  DType dtype();

  /** Element (row, col) as float. */
  float get(int row, int col);

  /** out[outOff + r] = row r . x[xOff ..] for r in [r0, r1). */
  void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff);

  /** dst[dstOff + i] = W[row][col0 + i] for i < len (col0 a multiple of 32 for block formats). */
  void toFloats(int row, int col0, int len, float[] dst, int dstOff);

  /**
   * Rows of the few-token tile this format reads in place ({@link #dotTile}), 0 where it has none
   * (the caller converts rows to a float scratch first).
   */
  default int tileRows() {
    return 0;
  }

  /**
   * The few-token kernel reading this format in place: sums[4 * i + j] = row (r + i) . token j
   * for i < rows (at most {@link #tileRows}; missing rows repeat row r and are ignored). The four
   * tokens come interleaved a vector at a time from xs[x0 ..] ({@link MatMul#interleave}).
   * {@code sums} has room for {@link #TILE8_SCRATCH} floats: a kernel may store its 16 vector sums
   * there before adding up their lanes.
   */
  default void dotTile(int r, int rows, float[] xs, int x0, float[] sums) {
    throw new UnsupportedOperationException(dtype() + " has no in-place few-token kernel");
  }

  /**
   * Rows of the eight-token tile this format reads in place ({@link #dotTile8}), 0 where it has
   * none.
   */
  default int tile8Rows() {
    return 0;
  }

  /**
   * Floats the sums array of {@link #dotTile8} and {@link #dotTile} holds: room for 24 vectors of
   * partial sums (the eight-token tiles store 24, the four-token ones 16).
   */
  int TILE8_SCRATCH = 24 * VL;

  /**
   * As {@link #dotTile} for eight tokens: sums[8 * i + j] = row (r + i * gap) . token j for i <
   * rows (at most {@link #tile8Rows}; missing rows repeat row r and are ignored). The tokens come
   * interleaved a vector at a time from xs[x0 ..] ({@link MatMul#interleave}): for every VL
   * columns, token 0's vector, then token 1's, and so on. {@code sums} has room for {@link
   * #TILE8_SCRATCH} floats: the kernel stores its vector sums there before adding up their lanes.
   */
  default void dotTile8(int r, int rows, int gap, float[] xs, int x0, float[] sums) {
    throw new UnsupportedOperationException(dtype() + " has no in-place eight-token kernel");
  }

  /**
   * The weight over {@code stored}. A mapped segment is first viewed as a plain native one over
   * the same memory and scope ({@code reinterpret}): mapped and allocated segments are different
   * classes, and a kernel whose loads have seen both compiles them for two receiver types (on
   * the 2-core AVX2 machine the four-stream BF16 decode kernel fell from 18-21 to 13-14 GB/s
   * once it had run over both kinds; the server maps its checkpoint while the quantiser, the
   * benchmark and the tests allocate).
   */
  static CpuWeight of(String name, DType dtype, MemorySegment stored, int rows, int cols) {
    MemorySegment seg = stored.isMapped() ? stored.reinterpret(stored.byteSize()) : stored;
    return switch (dtype) {
      case F32 -> new F32(name, seg, rows, cols);
      case BF16 -> new BF16(name, seg, rows, cols);
      case F16 -> new F16(name, seg, rows, cols);
      case Q8_0 -> new Q8(name, seg, rows, cols);
      case Q4_0 -> new Q4(name, seg, rows, cols);
      default -> throw new GlanceException.Unsupported(
          "tensor " + name + " has dtype " + dtype + "; weights must be F32, F16, BF16, Q8_0 or Q4_0");
    };
  }

  private static float bf16(short s) {
    return Float.intBitsToFloat((s & 0xffff) << 16);
  }

  /** Row-major float32. */
  record F32(String name, MemorySegment seg, int rows, int cols) implements CpuWeight {
    @Override
    public DType dtype() {
      return DType.F32;
    }

    @Override
    public void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
      int upper = FS.loopBound(cols);
      for (int r = r0; r < r1; r++) {
        long base = (long) r * cols * 4;
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i < upper; i += VL) {
          acc = FloatVector.fromMemorySegment(FS, seg, base + i * 4L, LE).fma(FloatVector.fromArray(FS, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
          sum += seg.get(LE_FLOAT, base + i * 4L) * x[xOff + i];
        }
        out[outOff + r] = sum;
      }
    }

    @Override
    public void toFloats(int row, int col0, int len, float[] dst, int dstOff) {
      MemorySegment.copy(seg, LE_FLOAT, ((long) row * cols + col0) * 4, dst, dstOff, len);
    }

    @Override
    public float get(int row, int col) {
      return seg.get(LE_FLOAT, ((long) row * cols + col) * 4);
    }
  }

  /** Row-major bfloat16, as most checkpoints store it. */
  record BF16(String name, MemorySegment seg, int rows, int cols) implements CpuWeight {
    @Override
    public DType dtype() {
      return DType.BF16;
    }

    /**
     * Four rows at a time, one from each quarter of [r0, r1): four independent sequential
     * streams per thread keep more cache lines in flight than one (measured on the 2-core AVX2
     * machine, 256 MB of rows, two threads: 0.95-1.3 of a one-stream read loop's bandwidth
     * against 0.7-0.8 for one row at a time). Rows left over take the one-row loop.
     */
    @Override
    public void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
      int q = WIDE ? (r1 - r0) / STREAMS : 0;
      int upper = cols - cols % VL;
      long rowBytes = cols * 2L;
      for (int j = 0; j < q; j++) {
        int ra = r0 + j;
        long b0 = ra * rowBytes;
        long b1 = b0 + q * rowBytes;
        long b2 = b1 + q * rowBytes;
        long b3 = b2 + q * rowBytes;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i < upper; i += VL) {
          FloatVector xv = FloatVector.fromArray(FS, x, xOff + i);
          a0 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b0 + i * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a0);
          a1 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b1 + i * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a1);
          a2 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b2 + i * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a2);
          a3 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b3 + i * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
          float xi = x[xOff + i];
          s0 += bf16(seg.get(LE_SHORT, b0 + i * 2L)) * xi;
          s1 += bf16(seg.get(LE_SHORT, b1 + i * 2L)) * xi;
          s2 += bf16(seg.get(LE_SHORT, b2 + i * 2L)) * xi;
          s3 += bf16(seg.get(LE_SHORT, b3 + i * 2L)) * xi;
        }
        out[outOff + ra] = s0;
        out[outOff + ra + q] = s1;
        out[outOff + ra + 2 * q] = s2;
        out[outOff + ra + 3 * q] = s3;
      }
      int upper2 = WIDE ? cols - cols % (2 * VL) : 0;
      for (int r = r0 + STREAMS * q; r < r1; r++) {
        long base = r * rowBytes;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = FloatVector.zero(FS);
        int i = 0;
        // Two accumulators: consecutive FMAs do not wait on each other.
        for (; i < upper2; i += 2 * VL) {
          // Widened here rather than in a helper: see Q8.dotRows on vectors crossing methods.
          FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, base + i * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
          FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, base + (i + VL) * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
          a0 = w0.fma(FloatVector.fromArray(FS, x, xOff + i), a0);
          a1 = w1.fma(FloatVector.fromArray(FS, x, xOff + i + VL), a1);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) {
          sum += bf16(seg.get(LE_SHORT, base + i * 2L)) * x[xOff + i];
        }
        out[outOff + r] = sum;
      }
    }

    /**
     * Four rows with 512-bit vectors (32 registers hold the 16 sums, four rows and a token), two
     * with 256-bit ones (16 registers: 8 sums, two rows, a token).
     */
    @Override
    public int tileRows() {
      return !WIDE ? 0 : VL == 16 ? 4 : VL == 8 ? 2 : 0;
    }

    /**
     * Widens each vector-wide slice of the rows in registers and multiplies it with four tokens:
     * the weight loads interleave with the FMAs, where converting rows to a float scratch first
     * streams them from memory and computes afterwards, without overlap (whole mid model, four
     * sequences, AVX-512: 126 and 173 ms per step against 198 and 204 through the scratch).
     */
    @Override
    public void dotTile(int r, int rows, float[] xs, int x0, float[] sums) {
      if (VL == 16) {
        dot4x4(r, rows, xs, x0, sums);
      } else {
        dot2x4(r, rows, xs, x0, sums);
      }
    }

    /**
     * Three rows with 512-bit vectors (32 registers hold the 24 sums, three rows and a token);
     * none with 256-bit ones, where 16 registers cannot hold eight tokens' sums for two rows.
     */
    @Override
    public int tile8Rows() {
      return WIDE && VL == 16 ? 3 : 0;
    }

    /**
     * Three rows by eight tokens, 24 sums, the rows widened once for all eight. Against converting
     * them to the float scratch and passing it twice with four tokens, the loads overlap the FMAs
     * (one matrix of 49152 x 2048 from DRAM, two threads, AVX-512: 8.6-10.5 ms against 16-22).
     * The eight token loads of a step read 512 consecutive bytes of the interleaved x instead of
     * eight rows of x far apart (Zen 4, eight tokens against the mid shape's 2.5 GB of matrices,
     * alternated in one JVM: 192 against 210 ms median; sixteen tokens 363 against 396). The
     * caller spreads the three rows over its range (gap), so they are three memory streams: the
     * weights come from DRAM slower than the FMAs use them (one 48 MB matrix 3.96 against 4.30 ms,
     * 2048 x 6848 3.91 against 4.30, the mid set 169 against 191, medians in one JVM).
     */
    @Override
    public void dotTile8(int r, int rows, int gap, float[] xs, int x0, float[] sums) {
      long b0 = (long) r * cols * 2;
      long b1 = rows > 1 ? b0 + (long) gap * cols * 2 : b0;
      long b2 = rows > 2 ? b0 + 2L * gap * cols * 2 : b0;
      FloatVector a00 = FloatVector.zero(FS);
      FloatVector a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
      FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
      FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
      int upper = cols - cols % VL;
      int k = 0;
      for (; k < upper; k += VL) {
        FloatVector v0 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b0 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector v1 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b1 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector v2 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b2 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector x = FloatVector.fromArray(FS, xs, x0 + 8 * k);
        a00 = v0.fma(x, a00);
        a10 = v1.fma(x, a10);
        a20 = v2.fma(x, a20);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 1 * VL);
        a01 = v0.fma(x, a01);
        a11 = v1.fma(x, a11);
        a21 = v2.fma(x, a21);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 2 * VL);
        a02 = v0.fma(x, a02);
        a12 = v1.fma(x, a12);
        a22 = v2.fma(x, a22);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 3 * VL);
        a03 = v0.fma(x, a03);
        a13 = v1.fma(x, a13);
        a23 = v2.fma(x, a23);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 4 * VL);
        a04 = v0.fma(x, a04);
        a14 = v1.fma(x, a14);
        a24 = v2.fma(x, a24);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 5 * VL);
        a05 = v0.fma(x, a05);
        a15 = v1.fma(x, a15);
        a25 = v2.fma(x, a25);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 6 * VL);
        a06 = v0.fma(x, a06);
        a16 = v1.fma(x, a16);
        a26 = v2.fma(x, a26);
        x = FloatVector.fromArray(FS, xs, x0 + 8 * k + 7 * VL);
        a07 = v0.fma(x, a07);
        a17 = v1.fma(x, a17);
        a27 = v2.fma(x, a27);
      }
      // The sums leave through memory: with 24 reduceLanes here C2 compiled the whole kernel about
      // 2x slower (one 49152 x 2048 matrix, two threads, AVX-512: 15.5 ms, against 8.4 with the
      // sums chained into one reduction and 10.3-12.5 this way).
      a00.intoArray(sums, 0 * VL);
      a01.intoArray(sums, 1 * VL);
      a02.intoArray(sums, 2 * VL);
      a03.intoArray(sums, 3 * VL);
      a04.intoArray(sums, 4 * VL);
      a05.intoArray(sums, 5 * VL);
      a06.intoArray(sums, 6 * VL);
      a07.intoArray(sums, 7 * VL);
      a10.intoArray(sums, 8 * VL);
      a11.intoArray(sums, 9 * VL);
      a12.intoArray(sums, 10 * VL);
      a13.intoArray(sums, 11 * VL);
      a14.intoArray(sums, 12 * VL);
      a15.intoArray(sums, 13 * VL);
      a16.intoArray(sums, 14 * VL);
      a17.intoArray(sums, 15 * VL);
      a20.intoArray(sums, 16 * VL);
      a21.intoArray(sums, 17 * VL);
      a22.intoArray(sums, 18 * VL);
      a23.intoArray(sums, 19 * VL);
      a24.intoArray(sums, 20 * VL);
      a25.intoArray(sums, 21 * VL);
      a26.intoArray(sums, 22 * VL);
      a27.intoArray(sums, 23 * VL);
      laneSums(sums, 24);
      if (k < cols) {
        tile8Tail(k, b0, b1, b2, xs, x0 + 8 * k, sums);
      }
    }

    /**
     * Columns past the last whole vector, whose interleaved x starts at xs[xt ..] (not the hot
     * path: model widths are multiples of 16).
     */
    private void tile8Tail(int k0, long b0, long b1, long b2, float[] xs, int xt, float[] sums) {
      for (int k = k0; k < cols; k++) {
        float v0 = bf16(seg.get(LE_SHORT, b0 + k * 2L));
        float v1 = bf16(seg.get(LE_SHORT, b1 + k * 2L));
        float v2 = bf16(seg.get(LE_SHORT, b2 + k * 2L));
        for (int j = 0; j < 8; j++) {
          float y = xs[xt + j * VL + k - k0];
          sums[j] += v0 * y;
          sums[8 + j] += v1 * y;
          sums[16 + j] += v2 * y;
        }
      }
    }

    /** Two rows by four tokens, 8 sums: the tile for 16 vector registers. */
    private void dot2x4(int r, int rows, float[] xs, int x0, float[] sums) {
      long b0 = (long) r * cols * 2;
      long b1 = rows > 1 ? b0 + cols * 2L : b0;
      FloatVector a00 = FloatVector.zero(FS);
      FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      int upper = cols - cols % VL;
      int k = 0;
      for (; k < upper; k += VL) {
        FloatVector v0 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b0 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector v1 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b1 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
      for (; k < cols; k++) {
        float v0 = bf16(seg.get(LE_SHORT, b0 + k * 2L));
        float v1 = bf16(seg.get(LE_SHORT, b1 + k * 2L));
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

    /** Four rows by four tokens, 16 sums: the tile for 32 vector registers. */
    private void dot4x4(int r, int rows, float[] xs, int x0, float[] sums) {
      long b0 = (long) r * cols * 2;
      long b1 = rows > 1 ? b0 + cols * 2L : b0;
      long b2 = rows > 2 ? b0 + 2L * cols * 2 : b0;
      long b3 = rows > 3 ? b0 + 3L * cols * 2 : b0;
      FloatVector a00 = FloatVector.zero(FS);
      FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
      int upper = cols - cols % VL;
      int k = 0;
      for (; k < upper; k += VL) {
        FloatVector v0 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b0 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector v1 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b1 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector v2 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b2 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        FloatVector v3 = ((IntVector) ShortVector.fromMemorySegment(SS, seg, b3 + k * 2L, LE)
            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
      for (; k < cols; k++) {
        float v0 = bf16(seg.get(LE_SHORT, b0 + k * 2L));
        float v1 = bf16(seg.get(LE_SHORT, b1 + k * 2L));
        float v2 = bf16(seg.get(LE_SHORT, b2 + k * 2L));
        float v3 = bf16(seg.get(LE_SHORT, b3 + k * 2L));
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

    @Override
    public void toFloats(int row, int col0, int len, float[] dst, int dstOff) {
      long base = ((long) row * cols + col0) * 2;
      int i = 0;
      if (WIDE) {
        for (int upper = len - len % VL; i < upper; i += VL) {
          ((IntVector) ShortVector.fromMemorySegment(SS, seg, base + i * 2L, LE)
              .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
              .intoArray(dst, dstOff + i);
        }
      }
      for (; i < len; i++) {
        dst[dstOff + i] = bf16(seg.get(LE_SHORT, base + i * 2L));
      }
    }

    @Override
    public float get(int row, int col) {
      return bf16(seg.get(LE_SHORT, ((long) row * cols + col) * 2));
    }
  }

  /** IEEE half precision; scalar conversion (the Vector API has no f16 widening yet). */
  record F16(String name, MemorySegment seg, int rows, int cols) implements CpuWeight {
    @Override
    public DType dtype() {
      return DType.F16;
    }

    @Override
    public void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
      for (int r = r0; r < r1; r++) {
        long base = (long) r * cols * 2;
        float sum = 0;
        for (int i = 0; i < cols; i++) {
          sum += Float.float16ToFloat(seg.get(LE_SHORT, base + i * 2L)) * x[xOff + i];
        }
        out[outOff + r] = sum;
      }
    }

    @Override
    public void toFloats(int row, int col0, int len, float[] dst, int dstOff) {
      long base = ((long) row * cols + col0) * 2;
      for (int i = 0; i < len; i++) {
        dst[dstOff + i] = Float.float16ToFloat(seg.get(LE_SHORT, base + i * 2L));
      }
    }

    @Override
    public float get(int row, int col) {
      return Float.float16ToFloat(seg.get(LE_SHORT, ((long) row * cols + col) * 2));
    }
  }

  /** Q8_0 blocks (see {@link DType}): 34 bytes per 32 values, rows of cols / 32 blocks. */
  record Q8(String name, MemorySegment seg, int rows, int cols) implements IntDot {
    static final int PARTS = WIDE ? DType.BLOCK / VL : 0;

    public Q8 {
      checkBlocks(name, cols);
    }

    @Override
    public boolean integerDecode() {
      return INT8_Q8;
    }

    @Override
    public DType dtype() {
      return DType.Q8_0;
    }

    @Override
    public void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
      int blocks = cols / DType.BLOCK;
      long rowBytes = blocks * 34L;
      if (!WIDE) {
        scalarDot(this, r0, r1, x, xOff, out, outOff);
        return;
      }
      // Everything inline in this loop: a helper taking or returning a vector that C2 compiles
      // on its own (and later refuses to inline as "too big") falls back to the Vector API's
      // Java implementation, allocating on every block. Four rows from the four quarters of the
      // range go together (STREAMS), sharing each x load.
      int q = (r1 - r0) / STREAMS;
      for (int j = 0; j < q; j++) {
        int ra = r0 + j;
        long a0 = ra * rowBytes;
        long a1 = a0 + q * rowBytes;
        long a2 = a1 + q * rowBytes;
        long a3 = a2 + q * rowBytes;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int b = 0; b < blocks; b++, a0 += 34, a1 += 34, a2 += 34, a3 += 34) {
          int xo = xOff + b * DType.BLOCK;
          FloatVector xv = FloatVector.fromArray(FS, x, xo);
          FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a0 + 2, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(xv);
          FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a1 + 2, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(xv);
          FloatVector s2 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a2 + 2, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(xv);
          FloatVector s3 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a3 + 2, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(xv);
          for (int p = 1; p < PARTS; p++) {
            xv = FloatVector.fromArray(FS, x, xo + p * VL);
            s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a0 + 2 + p * VL, LE)
                .convertShape(VectorOperators.B2F, FS, 0)).fma(xv, s0);
            s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a1 + 2 + p * VL, LE)
                .convertShape(VectorOperators.B2F, FS, 0)).fma(xv, s1);
            s2 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a2 + 2 + p * VL, LE)
                .convertShape(VectorOperators.B2F, FS, 0)).fma(xv, s2);
            s3 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, a3 + 2 + p * VL, LE)
                .convertShape(VectorOperators.B2F, FS, 0)).fma(xv, s3);
          }
          acc0 = s0.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0))), acc0);
          acc1 = s1.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a1))), acc1);
          acc2 = s2.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a2))), acc2);
          acc3 = s3.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a3))), acc3);
        }
        out[outOff + ra] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + q] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 2 * q] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 3 * q] = acc3.reduceLanes(VectorOperators.ADD);
      }
      for (int r = r0 + STREAMS * q; r < r1; r++) {
        long base = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        for (int b = 0; b < blocks; b++) {
          long at = base + b * 34L;
          int xo = xOff + b * DType.BLOCK;
          FloatVector sum = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, at + 2, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(FloatVector.fromArray(FS, x, xo));
          for (int p = 1; p < PARTS; p++) {
            sum = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, at + 2 + p * VL, LE)
                .convertShape(VectorOperators.B2F, FS, 0)).fma(FloatVector.fromArray(FS, x, xo + p * VL), sum);
          }
          FloatVector d = FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, at)));
          // Alternate accumulators so consecutive blocks do not wait on each other's FMA.
          if ((b & 1) == 0) {
            acc0 = sum.fma(d, acc0);
          } else {
            acc1 = sum.fma(d, acc1);
          }
        }
        out[outOff + r] = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
      }
    }

    /**
     * Four rows with 512-bit vectors (32 registers: 16 sums, four rows and a token), as BF16's
     * four-token tile; none with narrower vectors, where the scratch path stays (on AVX2 dequantising
     * in registers lost to it, session 4).
     */
    @Override
    public int tileRows() {
      return WIDE && VL == 16 ? 4 : 0;
    }

    /**
     * Four adjacent rows by four tokens, read in place: each 16-value part of a block widens to
     * float once and is scaled by its row's block scale, then meets the four tokens, as in
     * {@link #dotTile8}. The scratch path it replaces for two to four tokens converted the rows to
     * floats in memory first and read them back, without overlapping the loads and the FMAs: mid-
     * shaped Q8_0 matrices (1.31 GB), two threads, Zen 4, JVMs alternated, 2 tokens 103-114 ms
     * against 155-158, 4 tokens 100-124 against 154-158.
     */
    @Override
    public void dotTile(int r, int rows, float[] xs, int x0, float[] sums) {
      int blocks = cols / DType.BLOCK;
      long rowBytes = blocks * 34L;
      long b0 = r * rowBytes;
      long b1 = rows > 1 ? b0 + rowBytes : b0;
      long b2 = rows > 2 ? b0 + 2 * rowBytes : b0;
      long b3 = rows > 3 ? b0 + 3 * rowBytes : b0;
      FloatVector a00 = FloatVector.zero(FS);
      FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
      int xo = x0;
      for (int b = 0; b < blocks; b++, b0 += 34, b1 += 34, b2 += 34, b3 += 34) {
        float d0 = Float.float16ToFloat(seg.get(LE_SHORT, b0));
        float d1 = Float.float16ToFloat(seg.get(LE_SHORT, b1));
        float d2 = Float.float16ToFloat(seg.get(LE_SHORT, b2));
        float d3 = Float.float16ToFloat(seg.get(LE_SHORT, b3));
        for (int p = 0; p < PARTS; p++, xo += 4 * VL) {
          FloatVector v0 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b0 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d0);
          FloatVector v1 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b1 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d1);
          FloatVector v2 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b2 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d2);
          FloatVector v3 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b3 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d3);
          FloatVector x = FloatVector.fromArray(FS, xs, xo);
          a00 = v0.fma(x, a00);
          a10 = v1.fma(x, a10);
          a20 = v2.fma(x, a20);
          a30 = v3.fma(x, a30);
          x = FloatVector.fromArray(FS, xs, xo + 1 * VL);
          a01 = v0.fma(x, a01);
          a11 = v1.fma(x, a11);
          a21 = v2.fma(x, a21);
          a31 = v3.fma(x, a31);
          x = FloatVector.fromArray(FS, xs, xo + 2 * VL);
          a02 = v0.fma(x, a02);
          a12 = v1.fma(x, a12);
          a22 = v2.fma(x, a22);
          a32 = v3.fma(x, a32);
          x = FloatVector.fromArray(FS, xs, xo + 3 * VL);
          a03 = v0.fma(x, a03);
          a13 = v1.fma(x, a13);
          a23 = v2.fma(x, a23);
          a33 = v3.fma(x, a33);
        }
      }
      a00.intoArray(sums, 0 * VL);
      a01.intoArray(sums, 1 * VL);
      a02.intoArray(sums, 2 * VL);
      a03.intoArray(sums, 3 * VL);
      a10.intoArray(sums, 4 * VL);
      a11.intoArray(sums, 5 * VL);
      a12.intoArray(sums, 6 * VL);
      a13.intoArray(sums, 7 * VL);
      a20.intoArray(sums, 8 * VL);
      a21.intoArray(sums, 9 * VL);
      a22.intoArray(sums, 10 * VL);
      a23.intoArray(sums, 11 * VL);
      a30.intoArray(sums, 12 * VL);
      a31.intoArray(sums, 13 * VL);
      a32.intoArray(sums, 14 * VL);
      a33.intoArray(sums, 15 * VL);
      // Through memory, as the eight-token tiles do (see BF16.dotTile8).
      laneSums(sums, 16);
    }

    /**
     * Three rows with 512-bit vectors (32 registers: 24 sums, three rows, their three block
     * scales and a token), as BF16's tile; none with narrower vectors.
     */
    @Override
    public int tile8Rows() {
      return WIDE && VL == 16 ? 3 : 0;
    }

    /**
     * Three rows by eight tokens, read in place: each 16-value part of a block widens to float
     * once and is scaled by its row's block scale, then meets all eight tokens. Against the
     * float scratch (convert four rows, then pass them with four tokens at a time): eight tokens
     * against 0.71 GB of mid-shaped matrices, two threads, alternated in one JVM, 111-132 ms
     * against 168-183 (Intel, session 9). The rows and tokens follow {@link CpuWeight#dotTile8}.
     */
    @Override
    public void dotTile8(int r, int rows, int gap, float[] xs, int x0, float[] sums) {
      int blocks = cols / DType.BLOCK;
      long rowBytes = blocks * 34L;
      long b0 = r * rowBytes;
      long b1 = rows > 1 ? b0 + gap * rowBytes : b0;
      long b2 = rows > 2 ? b0 + 2 * gap * rowBytes : b0;
      FloatVector a00 = FloatVector.zero(FS);
      FloatVector a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
      FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
      FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
      int xo = x0;
      for (int b = 0; b < blocks; b++, b0 += 34, b1 += 34, b2 += 34) {
        float d0 = Float.float16ToFloat(seg.get(LE_SHORT, b0));
        float d1 = Float.float16ToFloat(seg.get(LE_SHORT, b1));
        float d2 = Float.float16ToFloat(seg.get(LE_SHORT, b2));
        for (int p = 0; p < PARTS; p++, xo += 8 * VL) {
          FloatVector v0 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b0 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d0);
          FloatVector v1 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b1 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d1);
          FloatVector v2 = ((FloatVector) ByteVector.fromMemorySegment(BS, seg, b2 + 2 + p * VL, LE)
              .convertShape(VectorOperators.B2F, FS, 0)).mul(d2);
          FloatVector x = FloatVector.fromArray(FS, xs, xo);
          a00 = v0.fma(x, a00);
          a10 = v1.fma(x, a10);
          a20 = v2.fma(x, a20);
          x = FloatVector.fromArray(FS, xs, xo + 1 * VL);
          a01 = v0.fma(x, a01);
          a11 = v1.fma(x, a11);
          a21 = v2.fma(x, a21);
          x = FloatVector.fromArray(FS, xs, xo + 2 * VL);
          a02 = v0.fma(x, a02);
          a12 = v1.fma(x, a12);
          a22 = v2.fma(x, a22);
          x = FloatVector.fromArray(FS, xs, xo + 3 * VL);
          a03 = v0.fma(x, a03);
          a13 = v1.fma(x, a13);
          a23 = v2.fma(x, a23);
          x = FloatVector.fromArray(FS, xs, xo + 4 * VL);
          a04 = v0.fma(x, a04);
          a14 = v1.fma(x, a14);
          a24 = v2.fma(x, a24);
          x = FloatVector.fromArray(FS, xs, xo + 5 * VL);
          a05 = v0.fma(x, a05);
          a15 = v1.fma(x, a15);
          a25 = v2.fma(x, a25);
          x = FloatVector.fromArray(FS, xs, xo + 6 * VL);
          a06 = v0.fma(x, a06);
          a16 = v1.fma(x, a16);
          a26 = v2.fma(x, a26);
          x = FloatVector.fromArray(FS, xs, xo + 7 * VL);
          a07 = v0.fma(x, a07);
          a17 = v1.fma(x, a17);
          a27 = v2.fma(x, a27);
        }
      }
      // The sums leave through memory, as in BF16.dotTile8.
      a00.intoArray(sums, 0 * VL);
      a01.intoArray(sums, 1 * VL);
      a02.intoArray(sums, 2 * VL);
      a03.intoArray(sums, 3 * VL);
      a04.intoArray(sums, 4 * VL);
      a05.intoArray(sums, 5 * VL);
      a06.intoArray(sums, 6 * VL);
      a07.intoArray(sums, 7 * VL);
      a10.intoArray(sums, 8 * VL);
      a11.intoArray(sums, 9 * VL);
      a12.intoArray(sums, 10 * VL);
      a13.intoArray(sums, 11 * VL);
      a14.intoArray(sums, 12 * VL);
      a15.intoArray(sums, 13 * VL);
      a16.intoArray(sums, 14 * VL);
      a17.intoArray(sums, 15 * VL);
      a20.intoArray(sums, 16 * VL);
      a21.intoArray(sums, 17 * VL);
      a22.intoArray(sums, 18 * VL);
      a23.intoArray(sums, 19 * VL);
      a24.intoArray(sums, 20 * VL);
      a25.intoArray(sums, 21 * VL);
      a26.intoArray(sums, 22 * VL);
      a27.intoArray(sums, 23 * VL);
      laneSums(sums, 24);
    }

    /**
     * Four rows per pass share each loaded x vector and keep four independent accumulators (two
     * rows measured 7% slower from L2). Per block: 32 bytes widen to shorts, 16-bit products
     * (|w|, |x| <= 127, so two products still fit in 16 bits) add pairwise into ints, and one
     * convert and one FMA with d_w * d_x finish it. All inline, as in dotRows.
     */
    @Override
    public void dotRowsInt8(int r0, int r1, short[] xq, float[] xd, int xBlock, float[] out, int outOff) {
      int blocks = cols / DType.BLOCK;
      long rowBytes = blocks * 34L;
      // Rows r, r + q, r + 2q, r + 3q: four streams from the quarters of the range (STREAMS).
      int quarter = (r1 - r0) / STREAMS;
      long gap = quarter * rowBytes;
      for (int j = 0; j < quarter; j++) {
        int r = r0 + j;
        long a = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(F256);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int b = 0; b < blocks; b++, a += 34) {
          int xo = (xBlock + b) * DType.BLOCK;
          ShortVector x0 = ShortVector.fromArray(S256, xq, xo);
          ShortVector x1 = ShortVector.fromArray(S256, xq, xo + 16);
          float dx = xd[xBlock + b];
          // p: each int lane holds two 16-bit sums; s: the low one sign-extended plus the high one.
          IntVector p;
          FloatVector s;
          p = ((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0)).mul(x0)
              .add(((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 18, LE)
                  .convertShape(VectorOperators.B2S, S256, 0)).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc0 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a)) * dx), acc0);
          p = ((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + gap + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0)).mul(x0)
              .add(((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + gap + 18, LE)
                  .convertShape(VectorOperators.B2S, S256, 0)).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc1 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a + gap)) * dx), acc1);
          p = ((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2 * gap + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0)).mul(x0)
              .add(((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2 * gap + 18, LE)
                  .convertShape(VectorOperators.B2S, S256, 0)).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc2 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a + 2 * gap)) * dx), acc2);
          p = ((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 3 * gap + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0)).mul(x0)
              .add(((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 3 * gap + 18, LE)
                  .convertShape(VectorOperators.B2S, S256, 0)).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc3 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a + 3 * gap)) * dx), acc3);
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + quarter] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * quarter] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * quarter] = acc3.reduceLanes(VectorOperators.ADD);
      }
      for (int r = r0 + STREAMS * quarter; r < r1; r++) {
        long a = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(F256);
        for (int b = 0; b < blocks; b++, a += 34) {
          int xo = (xBlock + b) * DType.BLOCK;
          ShortVector x0 = ShortVector.fromArray(S256, xq, xo);
          ShortVector x1 = ShortVector.fromArray(S256, xq, xo + 16);
          float dx = xd[xBlock + b];
          IntVector p;
          FloatVector s;
          p = ((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0)).mul(x0)
              .add(((ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 18, LE)
                  .convertShape(VectorOperators.B2S, S256, 0)).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc0 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a)) * dx), acc0);
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
      }
    }

    @Override
    public void toFloats(int row, int col0, int len, float[] dst, int dstOff) {
      long at = (long) row * (cols / DType.BLOCK) * 34 + col0 / DType.BLOCK * 34L;
      for (int done = 0; done < len; done += DType.BLOCK, at += 34) {
        float d = Float.float16ToFloat(seg.get(LE_SHORT, at));
        int n = Math.min(DType.BLOCK, len - done);
        if (WIDE && n == DType.BLOCK) {
          FloatVector dv = FloatVector.broadcast(FS, d);
          for (int p = 0; p < PARTS; p++) {
            ((FloatVector) ByteVector.fromMemorySegment(BS, seg, at + 2 + p * VL, LE)
                .convertShape(VectorOperators.B2F, FS, 0)).mul(dv).intoArray(dst, dstOff + done + p * VL);
          }
        } else {
          for (int j = 0; j < n; j++) {
            dst[dstOff + done + j] = d * seg.get(ValueLayout.JAVA_BYTE, at + 2 + j);
          }
        }
      }
    }

    @Override
    public float get(int row, int col) {
      long at = (long) row * (cols / DType.BLOCK) * 34 + col / DType.BLOCK * 34L;
      return Float.float16ToFloat(seg.get(LE_SHORT, at)) * seg.get(ValueLayout.JAVA_BYTE, at + 2 + col % DType.BLOCK);
    }
  }

  /** Q4_0 blocks (see {@link DType}): 18 bytes per 32 values. */
  record Q4(String name, MemorySegment seg, int rows, int cols) implements IntDot {
    /** Vector loads of VL nibble bytes per 16-byte block body. */
    static final int HALVES = WIDE && VL <= 16 ? 16 / VL : 0;

    public Q4 {
      checkBlocks(name, cols);
    }

    @Override
    public boolean integerDecode() {
      return INT8_Q4;
    }

    @Override
    public DType dtype() {
      return DType.Q4_0;
    }

    /**
     * Rows the float decode kernel reads at once, each from its own eighth of the row range:
     * eight streams instead of {@link #STREAMS} (Zen 4, alternated in one JVM: 43 against 45 ms;
     * Q8_0's kernel gained nothing from eight).
     */
    static final int ROWS = 8;

    /** Floats {@link #fold} writes for rows of {@code cols} values: 1 + HALVES vectors per block. */
    static int foldLength(int cols) {
      return cols / DType.BLOCK * (1 + HALVES) * VL;
    }

    /**
     * What the float kernel needs of x besides x itself, per block: the offset vector its sum
     * starts from, then for each half h of the low-nibble values, {@code xh - 16 * xl} (x of the
     * high-nibble values minus 16 times x of the low ones).
     *
     * <p>Why: a body byte is {@code u = lo + 16 * hi}, so {@code lo * xl + hi * xh = u * xl + hi *
     * (xh - 16 * xl)}; the kernel converts the whole byte and its high nibble and never masks out
     * the low one. The offset is -8 times the block's x values, lane by lane, so a sum that starts
     * there comes out as {@code sum((q - 8) * x)} without subtracting 8 from every nibble. Both
     * are made once per call and shared by every row and thread. (In float32 the rewritten sum
     * differs from the direct one by rounding only: its terms are up to 16 times larger, about
     * 1e-6 relative, far below Q4_0's own error.)
     */
    static void fold(float[] x, int xOff, int cols, float[] dst) {
      int stride = (1 + HALVES) * VL;
      for (int b = 0; b < cols / DType.BLOCK; b++) {
        int xo = xOff + b * DType.BLOCK;
        FloatVector f = FloatVector.zero(FS);
        for (int h = 0; h < HALVES; h++) {
          FloatVector xl = FloatVector.fromArray(FS, x, xo + h * VL);
          FloatVector xh = FloatVector.fromArray(FS, x, xo + 16 + h * VL);
          f = f.add(xl).add(xh);
          xl.mul(-16f).add(xh).intoArray(dst, b * stride + (1 + h) * VL);
        }
        f.mul(-8f).intoArray(dst, b * stride);
      }
    }

    @Override
    public void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
      if (HALVES == 0) {
        scalarDot(this, r0, r1, x, xOff, out, outOff);
        return;
      }
      float[] folded = new float[foldLength(cols)];
      fold(x, xOff, cols, folded);
      dotRowsFolded(r0, r1, x, xOff, folded, out, outOff);
    }

    /**
     * {@link #dotRows} with {@link #fold} of this x, which the caller makes once per call for
     * every row and thread (where {@link #HALVES} > 0). Per block and row: one load widened to
     * ints, two conversions, one shift and three FMAs. Measured on Zen 4 (one token against 0.7
     * GB of mid-shaped matrices, alternated in one JVM): 43 ms against 52 for the masking kernel
     * with four rows at once; 45 with this arithmetic and four rows.
     */
    void dotRowsFolded(int r0, int r1, float[] x, int xOff, float[] folded, float[] out, int outOff) {
      int blocks = cols / DType.BLOCK;
      long rowBytes = blocks * 18L;
      int stride = (1 + HALVES) * VL;
      // All inline, as in Q8: no vector crosses a method boundary. Eight rows from the eighths
      // of the range go together: eight sequential streams, sharing the loads of x.
      int q = (r1 - r0) / ROWS;
      long gap = q * rowBytes;
      for (int j = 0; j < q; j++) {
        int ra = r0 + j;
        long a0 = ra * rowBytes;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        FloatVector acc4 = acc0;
        FloatVector acc5 = acc0;
        FloatVector acc6 = acc0;
        FloatVector acc7 = acc0;
        for (int b = 0; b < blocks; b++, a0 += 18) {
          int xo = xOff + b * DType.BLOCK;
          int fo = b * stride;
          FloatVector off = FloatVector.fromArray(FS, folded, fo);
          FloatVector s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc0 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0))), acc0);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 1 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc1 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 1 * gap))), acc1);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 2 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc2 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 2 * gap))), acc2);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 3 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc3 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 3 * gap))), acc3);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 4 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc4 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 4 * gap))), acc4);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 5 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc5 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 5 * gap))), acc5);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 6 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc6 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 6 * gap))), acc6);
          s = off;
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a0 + 7 * gap + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          acc7 = s.fma(FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a0 + 7 * gap))), acc7);
        }
        out[outOff + ra] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + q] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 2 * q] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 3 * q] = acc3.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 4 * q] = acc4.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 5 * q] = acc5.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 6 * q] = acc6.reduceLanes(VectorOperators.ADD);
        out[outOff + ra + 7 * q] = acc7.reduceLanes(VectorOperators.ADD);
      }
      for (int r = r0 + ROWS * q; r < r1; r++) {
        long a = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        for (int b = 0; b < blocks; b++, a += 18) {
          int xo = xOff + b * DType.BLOCK;
          int fo = b * stride;
          FloatVector s = FloatVector.fromArray(FS, folded, fo);
          for (int h = 0; h < HALVES; h++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, seg, a + 2 + h * VL, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
            s = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xo + h * VL), s);
            s = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                .fma(FloatVector.fromArray(FS, folded, fo + (1 + h) * VL), s);
          }
          FloatVector d = FloatVector.broadcast(FS, Float.float16ToFloat(seg.get(LE_SHORT, a)));
          if ((b & 1) == 0) {
            acc0 = s.fma(d, acc0);
          } else {
            acc1 = s.fma(d, acc1);
          }
        }
        out[outOff + r] = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
      }
    }

    /**
     * As {@link Q8#dotRowsInt8}: the 16 body bytes widen to shorts once, and the low nibbles
     * (values 0..15 of the block) and high nibbles (16..31) split on 16-bit lanes, minus 8.
     */
    @Override
    public void dotRowsInt8(int r0, int r1, short[] xq, float[] xd, int xBlock, float[] out, int outOff) {
      int blocks = cols / DType.BLOCK;
      long rowBytes = blocks * 18L;
      // Rows r, r + q, r + 2q, r + 3q: four streams from the quarters of the range (STREAMS).
      int quarter = (r1 - r0) / STREAMS;
      long gap = quarter * rowBytes;
      for (int j = 0; j < quarter; j++) {
        int r = r0 + j;
        long a = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(F256);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int b = 0; b < blocks; b++, a += 18) {
          int xo = (xBlock + b) * DType.BLOCK;
          ShortVector x0 = ShortVector.fromArray(S256, xq, xo);
          ShortVector x1 = ShortVector.fromArray(S256, xq, xo + 16);
          float dx = xd[xBlock + b];
          ShortVector q;
          IntVector p;
          FloatVector s;
          q = (ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0);
          p = q.and((short) 15).sub((short) 8).mul(x0)
              .add(q.lanewise(VectorOperators.ASHR, 4).and((short) 15).sub((short) 8).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc0 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a)) * dx), acc0);
          q = (ShortVector) ByteVector.fromMemorySegment(B128, seg, a + gap + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0);
          p = q.and((short) 15).sub((short) 8).mul(x0)
              .add(q.lanewise(VectorOperators.ASHR, 4).and((short) 15).sub((short) 8).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc1 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a + gap)) * dx), acc1);
          q = (ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2 * gap + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0);
          p = q.and((short) 15).sub((short) 8).mul(x0)
              .add(q.lanewise(VectorOperators.ASHR, 4).and((short) 15).sub((short) 8).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc2 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a + 2 * gap)) * dx), acc2);
          q = (ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 3 * gap + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0);
          p = q.and((short) 15).sub((short) 8).mul(x0)
              .add(q.lanewise(VectorOperators.ASHR, 4).and((short) 15).sub((short) 8).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc3 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a + 3 * gap)) * dx), acc3);
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOff + r + quarter] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 2 * quarter] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOff + r + 3 * quarter] = acc3.reduceLanes(VectorOperators.ADD);
      }
      for (int r = r0 + STREAMS * quarter; r < r1; r++) {
        long a = r * rowBytes;
        FloatVector acc0 = FloatVector.zero(F256);
        for (int b = 0; b < blocks; b++, a += 18) {
          int xo = (xBlock + b) * DType.BLOCK;
          ShortVector x0 = ShortVector.fromArray(S256, xq, xo);
          ShortVector x1 = ShortVector.fromArray(S256, xq, xo + 16);
          float dx = xd[xBlock + b];
          ShortVector q;
          IntVector p;
          FloatVector s;
          q = (ShortVector) ByteVector.fromMemorySegment(B128, seg, a + 2, LE)
              .convertShape(VectorOperators.B2S, S256, 0);
          p = q.and((short) 15).sub((short) 8).mul(x0)
              .add(q.lanewise(VectorOperators.ASHR, 4).and((short) 15).sub((short) 8).mul(x1)).reinterpretAsInts();
          s = (FloatVector) p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
              .add(p.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
          acc0 = s.fma(FloatVector.broadcast(F256, Float.float16ToFloat(seg.get(LE_SHORT, a)) * dx), acc0);
        }
        out[outOff + r] = acc0.reduceLanes(VectorOperators.ADD);
      }
    }

    @Override
    public void toFloats(int row, int col0, int len, float[] dst, int dstOff) {
      long at = (long) row * (cols / DType.BLOCK) * 18 + col0 / DType.BLOCK * 18L;
      for (int done = 0; done < len; done += DType.BLOCK, at += 18) {
        float d = Float.float16ToFloat(seg.get(LE_SHORT, at));
        int n = Math.min(DType.BLOCK, len - done);
        if (HALVES > 0 && n == DType.BLOCK) {
          FloatVector dv = FloatVector.broadcast(FS, d);
          for (int h = 0; h < HALVES; h++) {
            ByteVector q = ByteVector.fromMemorySegment(BS, seg, at + 2 + h * VL, LE);
            ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, FS, 0)).mul(dv)
                .intoArray(dst, dstOff + done + h * VL);
            ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, FS, 0))
                .mul(dv).intoArray(dst, dstOff + done + 16 + h * VL);
          }
        } else {
          for (int j = 0; j < n; j++) {
            int packed = seg.get(ValueLayout.JAVA_BYTE, at + 2 + (j & 15)) & 0xff;
            dst[dstOff + done + j] = d * ((j < 16 ? packed & 15 : packed >>> 4) - 8);
          }
        }
      }
    }

    @Override
    public float get(int row, int col) {
      long at = (long) row * (cols / DType.BLOCK) * 18 + col / DType.BLOCK * 18L;
      int j = col % DType.BLOCK;
      int packed = seg.get(ValueLayout.JAVA_BYTE, at + 2 + (j & 15)) & 0xff;
      return Float.float16ToFloat(seg.get(LE_SHORT, at)) * ((j < 16 ? packed & 15 : packed >>> 4) - 8);
    }
  }

  /** A small vector (norm weight, bias) converted to float32 once at load. */
  record Vec(String name, float[] values) implements CpuWeight {
    @Override
    public DType dtype() {
      return DType.F32;
    }

    @Override
    public int rows() {
      return 1;
    }

    @Override
    public int cols() {
      return values.length;
    }

    @Override
    public float get(int row, int col) {
      return values[col];
    }

    @Override
    public void dotRows(int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
      scalarDot(this, r0, r1, x, xOff, out, outOff);
    }

    @Override
    public void toFloats(int row, int col0, int len, float[] dst, int dstOff) {
      System.arraycopy(values, col0, dst, dstOff, len);
    }
  }

  /**
   * sums[i] = the lanes of the vector stored at sums[i * VL ..] added up, for i < count (each
   * write lands in a vector already read): how the in-place tiles hand back their vector sums.
   */
  private static void laneSums(float[] sums, int count) {
    for (int i = 0; i < count; i++) {
      sums[i] = FloatVector.fromArray(FS, sums, i * VL).reduceLanes(VectorOperators.ADD);
    }
  }

  private static void checkBlocks(String name, int cols) {
    if (cols % DType.BLOCK != 0) {
      throw new GlanceException.Unsupported("tensor " + name + " has rows of " + cols
          + " values; block formats need a multiple of " + DType.BLOCK);
    }
  }

  private static void scalarDot(CpuWeight w, int r0, int r1, float[] x, int xOff, float[] out, int outOff) {
    float[] row = new float[w.cols()];
    for (int r = r0; r < r1; r++) {
      w.toFloats(r, 0, w.cols(), row, 0);
      float sum = 0;
      for (int i = 0; i < row.length; i++) {
        sum += row[i] * x[xOff + i];
      }
      out[outOff + r] = sum;
    }
  }
}
