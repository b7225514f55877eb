package dev.glance.cuda;

/** bfloat16 conversions on the host, bit for bit as the kernels' f2bf/bf2f. */
public final class Bf16 {
  private Bf16() {}

  /** Round to nearest even; NaNs stay quiet NaNs. */
  public static short fromFloat(float f) {
    int u = Float.floatToRawIntBits(f);
    if ((u & 0x7fffffff) > 0x7f800000) {
      return (short) ((u >>> 16) | 0x40);
    }
    u += 0x7fff + ((u >>> 16) & 1);
    return (short) (u >>> 16);
  }

  public static float toFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
