package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;

/**
 * Token rows quantised to Q8_0-style blocks (per 32 values: scale = max|x| / 127, q =
 * round-half-away(x / scale)) for the integer decode kernels of {@link CpuWeight.IntDot}; done
 * once per linear call and shared by every weight row and thread. The int8 values are kept
 * widened to shorts so no weight row pays for widening them again; the scales stay float32
 * (llama.cpp rounds them to f16), which only makes the product more exact.
 */
final class Q8Rows {
  private short[] values = new short[0];
  private float[] scales = new float[0];

  short[] values() {
    return values;
  }

  float[] scales() {
    return scales;
  }

  /** Quantises xs[n][cols] (cols a multiple of 32); row t's blocks start at block t * cols / 32. */
  void quantize(float[] xs, int n, int cols) {
    int len = n * cols;
    if (values.length < len) {
      values = new short[len];
      scales = new float[len / DType.BLOCK];
    }
    for (int b = 0; b < len / DType.BLOCK; b++) {
      int o = b * DType.BLOCK;
      float amax = 0;
      for (int j = 0; j < DType.BLOCK; j++) {
        amax = Math.max(amax, Math.abs(xs[o + j]));
      }
      float d = amax / 127f;
      float id = d != 0 ? 1f / d : 0f;
      scales[b] = d;
      for (int j = 0; j < DType.BLOCK; j++) {
        float v = xs[o + j] * id;
        values[o + j] = (short) (v >= 0 ? (int) (v + 0.5f) : -(int) (-v + 0.5f));
      }
    }
  }
}
