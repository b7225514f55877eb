package dev.glance.engine.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's arithmetic peak as the kernels see it: threads each run twelve independent
 * chains of vector FMAs in registers (no memory traffic), and the best pass counts. This is the
 * bound prefill, the vision tower and batched decode steps are held to, as the read loop ({@link
 * ReadBandwidth}) is the bound of one-token decode. Twelve chains cover the FMA latency of the
 * machines seen so far (4 cycles, two FMA pipes).
 */
public final class FmaPeak {
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  /** FMAs per loop iteration: twelve chains of one. */
  private static final int CHAINS = 12;

  private FmaPeak() {}

  /** Floating-point operations per second (an FMA counts two per lane), best of {@code passes}. */
  public static double measure(int threads, int passes, long fmasPerThread) {
    // Compiles the loop before the timed passes (a short interpreted pass would count as one).
    for (int i = 0; i < 3; i++) {
      chains(fmasPerThread / CHAINS / 50);
    }
    double best = 0;
    float[] sink = new float[threads];
    long iterations = fmasPerThread / CHAINS;
    for (int p = 0; p < passes; p++) {
      long nanos = TimedPass.run(threads, id -> sink[id] = chains(iterations), "the FMA peak");
      double seconds = nanos / 1e9;
      best = Math.max(best, threads * iterations * CHAINS * 2.0 * FS.length() / seconds);
    }
    if (Float.isNaN(sink[0])) {
      throw new IllegalStateException("FMA peak loop produced NaN");
    }
    return best;
  }

  /** Twelve chains a = a * m + b, which stay finite (m < 1) and cannot be folded away. */
  private static float chains(long iterations) {
    FloatVector m = FloatVector.broadcast(FS, 0.999999f);
    FloatVector b = FloatVector.broadcast(FS, 1e-7f);
    FloatVector a0 = FloatVector.broadcast(FS, 1f);
    FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (long i = 0; i < iterations; i++) {
      a0 = a0.fma(m, b);
      a1 = a1.fma(m, b);
      a2 = a2.fma(m, b);
      a3 = a3.fma(m, b);
      a4 = a4.fma(m, b);
      a5 = a5.fma(m, b);
      a6 = a6.fma(m, b);
      a7 = a7.fma(m, b);
      a8 = a8.fma(m, b);
      a9 = a9.fma(m, b);
      a10 = a10.fma(m, b);
      a11 = a11.fma(m, b);
    }
    return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
        .reduceLanes(VectorOperators.ADD);
  }
}
