package dev.glance.engine.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's memory read bandwidth, measured the way a decode step reads weights: threads
 * each stream their share of a buffer far larger than the caches through vector loads and sum
 * it (a STREAM-style read kernel). The best of several passes is reported, as STREAM does.
 */
public final class ReadBandwidth {
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

  private ReadBandwidth() {}

  /** Bytes per second reading {@code bytes} with {@code threads} threads, best of {@code passes}. */
  public static double measure(int threads, long bytes, int passes) {
    long per = bytes / threads / FS.vectorByteSize() / 4 * FS.vectorByteSize() * 4;
    try (Arena arena = Arena.ofShared()) {
      MemorySegment buf = arena.allocate(per * threads, 4096);
      buf.fill((byte) 1); // touch every page so the passes measure reads, not page faults
      double best = 0;
      float[] sink = new float[threads];
      for (int p = 0; p < passes; p++) {
        Thread[] ts = new Thread[threads];
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
          int id = t;
          ts[t] = Thread.ofPlatform().start(() -> sink[id] = sum(buf, id * per, per));
        }
        for (Thread t : ts) {
          try {
            t.join();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring bandwidth", e);
          }
        }
        long t1 = System.nanoTime();
        best = Math.max(best, per * threads / ((t1 - t0) / 1e9));
      }
      if (Float.isNaN(sink[0])) {
        throw new IllegalStateException("bandwidth buffer read back NaN");
      }
      return best;
    }
  }

  private static float sum(MemorySegment seg, long from, long len) {
    int step = FS.vectorByteSize();
    FloatVector a0 = FloatVector.zero(FS);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (long i = from; i < from + len; i += 4L * step) {
      a0 = a0.add(FloatVector.fromMemorySegment(FS, seg, i, ByteOrder.LITTLE_ENDIAN));
      a1 = a1.add(FloatVector.fromMemorySegment(FS, seg, i + step, ByteOrder.LITTLE_ENDIAN));
      a2 = a2.add(FloatVector.fromMemorySegment(FS, seg, i + 2L * step, ByteOrder.LITTLE_ENDIAN));
      a3 = a3.add(FloatVector.fromMemorySegment(FS, seg, i + 3L * step, ByteOrder.LITTLE_ENDIAN));
    }
    return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
  }
}
