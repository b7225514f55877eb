package dev.glance.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Float values to the block formats Q8_0 and Q4_0, with llama.cpp's reference rounding (so a
 * weight quantised here equals one quantised by llama.cpp's reference code): Q8_0 scale =
 * max|x| / 127, q = round-half-away(x / scale); Q4_0 scale = (the value of largest magnitude) /
 * -8, q = min(15, floor(x / scale + 8.5)). The scale is stored as IEEE half precision.
 */
public final class Quantizer {
  private static final ValueLayout.OfShort LE_SHORT =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Quantizer() {}

  /**
   * Quantises {@code len} values (a multiple of 32) of {@code src} from {@code off} into
   * {@code dst} at byte {@code dstOff}, as {@code format} (Q8_0 or Q4_0).
   */
  public static void quantize(DType format, float[] src, int off, int len, MemorySegment dst, long dstOff) {
    if (len % DType.BLOCK != 0) {
      throw new IllegalArgumentException(len + " values are not whole blocks of " + DType.BLOCK);
    }
    switch (format) {
      case Q8_0 -> {
        for (int b = 0; b < len / DType.BLOCK; b++) {
          q8Block(src, off + b * DType.BLOCK, dst, dstOff + b * 34L);
        }
      }
      case Q4_0 -> {
        for (int b = 0; b < len / DType.BLOCK; b++) {
          q4Block(src, off + b * DType.BLOCK, dst, dstOff + b * 18L);
        }
      }
      default -> throw new IllegalArgumentException(format + " is not a quantised format");
    }
  }

  private static void q8Block(float[] x, int o, MemorySegment dst, long at) {
    float amax = 0;
    for (int j = 0; j < DType.BLOCK; j++) {
      amax = Math.max(amax, Math.abs(x[o + j]));
    }
    float d = amax / 127f;
    float id = d != 0 ? 1f / d : 0f;
    dst.set(LE_SHORT, at, Float.floatToFloat16(d));
    for (int j = 0; j < DType.BLOCK; j++) {
      dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundHalfAway(x[o + j] * id));
    }
  }

  private static void q4Block(float[] x, int o, MemorySegment dst, long at) {
    float amax = 0;
    float max = 0;
    for (int j = 0; j < DType.BLOCK; j++) {
      float v = x[o + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    float d = max / -8f;
    float id = d != 0 ? 1f / d : 0f;
    dst.set(LE_SHORT, at, Float.floatToFloat16(d));
    for (int j = 0; j < 16; j++) {
      // x * id + 8.5 lies in [0.5, 16.5]: the int cast floors it, as C's (int8_t) does there.
      int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
      int hi = Math.min(15, (int) (x[o + 16 + j] * id + 8.5f));
      dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (lo | hi << 4));
    }
  }

  /** C's roundf: halves go away from zero (Java's Math.round sends -2.5 to -2). */
  private static int roundHalfAway(float v) {
    return v >= 0 ? (int) (v + 0.5f) : -(int) (-v + 0.5f);
  }
}
