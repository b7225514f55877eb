package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.Weight;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix in one storage format, read in place from the mapped checkpoint. Each format
 * has its own vectorised dot product of a row with a float vector, so kernels never convert a
 * whole matrix.
 */
sealed interface CpuWeight extends Weight permits CpuWeight.F32, CpuWeight.BF16, CpuWeight.F16 {
  VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  VectorSpecies<Short> SS =
      VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
  ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Sum over i < cols of W[row][i] * x[xOff + i]. */
  float dot(int row, float[] x, int xOff);

  /** Element (row, col) as float. */
  float get(int row, int col);

  static CpuWeight of(String name, dev.glance.engine.tensor.DType dtype, MemorySegment seg, int rows, int cols) {
    return switch (dtype) {
      case F32 -> new F32(name, seg, rows, cols);
      case BF16 -> new BF16(name, seg, rows, cols);
      case F16 -> new F16(name, seg, rows, cols);
      default -> throw new dev.glance.engine.GlanceException.Unsupported(
          "tensor " + name + " has dtype " + dtype + "; weights must be F32, F16 or BF16");
    };
  }

  record F32(String name, MemorySegment seg, int rows, int cols) implements CpuWeight {
    @Override
    public float dot(int row, float[] x, int xOff) {
      long base = (long) row * cols * 4;
      int upper = FS.loopBound(cols);
      FloatVector acc = FloatVector.zero(FS);
      int i = 0;
      for (; i < upper; i += FS.length()) {
        FloatVector w = FloatVector.fromMemorySegment(FS, seg, base + i * 4L, ByteOrder.LITTLE_ENDIAN);
        acc = w.fma(FloatVector.fromArray(FS, x, xOff + i), acc);
      }
      float sum = acc.reduceLanes(VectorOperators.ADD);
      for (; i < cols; i++) {
        sum += seg.get(LE_FLOAT, base + i * 4L) * x[xOff + i];
      }
      return sum;
    }

    @Override
    public float get(int row, int col) {
      return seg.get(LE_FLOAT, ((long) row * cols + col) * 4);
    }
  }

  record BF16(String name, MemorySegment seg, int rows, int cols) implements CpuWeight {
    @Override
    public float dot(int row, float[] x, int xOff) {
      long base = (long) row * cols * 2;
      int upper = FS.loopBound(cols);
      FloatVector acc = FloatVector.zero(FS);
      int i = 0;
      for (; i < upper; i += FS.length()) {
        ShortVector s = ShortVector.fromMemorySegment(SS, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
        // bf16 is the top half of a float32: widen to int and shift into place.
        FloatVector w = ((jdk.incubator.vector.IntVector) s.convertShape(VectorOperators.S2I,
                jdk.incubator.vector.IntVector.SPECIES_PREFERRED.withShape(FS.vectorShape()), 0))
            .lanewise(VectorOperators.LSHL, 16)
            .reinterpretAsFloats();
        acc = w.fma(FloatVector.fromArray(FS, x, xOff + i), acc);
      }
      float sum = acc.reduceLanes(VectorOperators.ADD);
      for (; i < cols; i++) {
        sum += Float.intBitsToFloat((seg.get(LE_SHORT, base + i * 2L) & 0xffff) << 16) * x[xOff + i];
      }
      return sum;
    }

    @Override
    public float get(int row, int col) {
      return Float.intBitsToFloat((seg.get(LE_SHORT, ((long) row * cols + col) * 2) & 0xffff) << 16);
    }
  }

  /** IEEE half precision; scalar conversion (the Vector API has no f16 widening on AVX2 yet). */
  record F16(String name, MemorySegment seg, int rows, int cols) implements CpuWeight {
    @Override
    public float dot(int row, float[] x, int xOff) {
      long base = (long) row * cols * 2;
      float sum = 0;
      for (int i = 0; i < cols; i++) {
        sum += Float.float16ToFloat(seg.get(LE_SHORT, base + i * 2L)) * x[xOff + i];
      }
      return sum;
    }

    @Override
    public float get(int row, int col) {
      return Float.float16ToFloat(seg.get(LE_SHORT, ((long) row * cols + col) * 2));
    }
  }
}
