package dev.glance.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named tensor as it lies in a checkpoint file: dtype, shape and a view of its bytes (a slice of
 * a memory-mapped file, so nothing is copied until a kernel reads it).
 */
public record TensorData(String name, DType dtype, long[] shape, MemorySegment data) {

  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  public long elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public int dims() {
    return shape.length;
  }

  /** Reads element i as float, whatever the stored floating type. */
  public float getFloat(long i) {
    return switch (dtype) {
      case F32 -> data.getAtIndex(F32, i);
      case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16, i) & 0xffff) << 16);
      case F16 -> Float.float16ToFloat(data.getAtIndex(I16, i));
      case I64 -> data.getAtIndex(I64, i);
      case I32 -> data.getAtIndex(I32, i);
      case Q8_0 -> {
        long block = i / DType.BLOCK * 34;
        yield Float.float16ToFloat(data.get(I16, block)) * data.get(ValueLayout.JAVA_BYTE, block + 2 + i % DType.BLOCK);
      }
      case Q4_0 -> {
        long block = i / DType.BLOCK * 18;
        int j = (int) (i % DType.BLOCK);
        int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xff;
        int q = (j < 16 ? packed & 15 : packed >>> 4) - 8;
        yield Float.float16ToFloat(data.get(I16, block)) * q;
      }
    };
  }

  public long getLong(long i) {
    return switch (dtype) {
      case I64 -> data.getAtIndex(I64, i);
      case I32 -> data.getAtIndex(I32, i);
      default -> (long) getFloat(i);
    };
  }

  /** Copies the whole tensor to a float array; meant for small tensors (norms, biases, tables). */
  public float[] toFloatArray() {
    long n = elements();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor " + name + " too large for a float[]: " + n);
    }
    float[] out = new float[(int) n];
    if (dtype == DType.F32) {
      MemorySegment.copy(data, F32, 0, out, 0, out.length);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = getFloat(i);
    }
    return out;
  }

  public long[] toLongArray() {
    long[] out = new long[Math.toIntExact(elements())];
    for (int i = 0; i < out.length; i++) {
      out[i] = getLong(i);
    }
    return out;
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + shapeString();
  }
}
