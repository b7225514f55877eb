package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Token rows quantised to Q8_0-style blocks (per 32 values: scale = max|x| / 127, q =
 * round-half-away(x / scale)) for the integer decode kernels of {@link CpuWeight.IntDot}; done
 * once per linear call and shared by every weight row and thread. The int8 values are kept
 * widened to shorts so no weight row pays for widening them again; the scales stay float32
 * (llama.cpp rounds them to f16), which only makes the product more exact.
 */
final class Q8Rows {
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  private static final int VL = FS.length();
  /** Shorts, one per float lane: the converted values of one float vector. */
  private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, VL * 16)));
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
    boolean vector = VL <= DType.BLOCK && DType.BLOCK % VL == 0;
    for (int b = 0; b < len / DType.BLOCK; b++) {
      int o = b * DType.BLOCK;
      float amax = 0;
      if (vector) {
        FloatVector m = FloatVector.fromArray(FS, xs, o).abs();
        for (int j = VL; j < DType.BLOCK; j += VL) {
          m = m.max(FloatVector.fromArray(FS, xs, o + j).abs());
        }
        amax = m.reduceLanes(VectorOperators.MAX);
      } else {
        for (int j = 0; j < DType.BLOCK; j++) {
          amax = Math.max(amax, Math.abs(xs[o + j]));
        }
      }
      float d = amax / 127f;
      float id = d != 0 ? 1f / d : 0f;
      scales[b] = d;
      int j = 0;
      if (vector) {
        // Round half away from zero: add 0.5 with the value's sign, then truncate (F2I), as
        // the scalar loop below does one value at a time.
        for (; j < DType.BLOCK; j += VL) {
          FloatVector v = FloatVector.fromArray(FS, xs, o + j).mul(id);
          FloatVector half = FloatVector.broadcast(FS, 0.5f).blend(-0.5f, v.lt(0f));
          ((ShortVector) v.add(half).convert(VectorOperators.F2I, 0).convertShape(VectorOperators.I2S, SS, 0))
              .intoArray(values, o + j);
        }
      }
      for (; j < DType.BLOCK; j++) {
        float v = xs[o + j] * id;
        values[o + j] = (short) (v >= 0 ? (int) (v + 0.5f) : -(int) (-v + 0.5f));
      }
    }
  }
}
