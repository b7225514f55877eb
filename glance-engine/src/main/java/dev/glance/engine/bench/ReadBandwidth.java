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
 * Each thread reads its share both as one sequential stream and as four (its quarters side by
 * side), and the faster counts: on the 2-core AVX2 machine four streams per core read up to 1.3x
 * more than one, and the decode kernels read four (CpuWeight.STREAMS), so a one-stream figure
 * would understate the roofline they are held to.
 */
public final class ReadBandwidth {
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

  private ReadBandwidth() {}

  /** Bytes per second, one and four streams per thread, each the best of its passes. */
  public record Result(double oneStream, double fourStreams) {
    /** The better of the two: what the machine can deliver. */
    public double best() {
      return Math.max(oneStream, fourStreams);
    }
  }

  /**
   * Reads {@code bytes} with {@code threads} threads, {@code passes} times per access pattern,
   * the two patterns alternating so that a neighbour's burst does not favour one of them.
   */
  public static Result measure(int threads, long bytes, int passes) {
    long per = bytes / threads / FS.vectorByteSize() / 4 * FS.vectorByteSize() * 4;
    try (Arena arena = Arena.ofShared()) {
      MemorySegment buf = arena.allocate(per * threads, 4096);
      buf.fill((byte) 1); // touch every page so the passes measure reads, not page faults
      double[] best = new double[2];
      float[] sink = new float[threads];
      for (int p = 0; p < 2 * passes; p++) {
        boolean four = p % 2 == 1;
        long nanos = TimedPass.run(threads, id -> sink[id] = sum(buf, id * per, per, four), "bandwidth");
        best[p % 2] = Math.max(best[p % 2], per * threads / (nanos / 1e9));
      }
      if (Float.isNaN(sink[0])) {
        throw new IllegalStateException("bandwidth buffer read back NaN");
      }
      return new Result(best[0], best[1]);
    }
  }

  /**
   * Sums [from, from + len) with four accumulators: as one stream (four adjacent vectors per
   * step) or, with {@code fourStreams}, as the range's four quarters side by side.
   */
  private static float sum(MemorySegment seg, long from, long len, boolean fourStreams) {
    int step = FS.vectorByteSize();
    long gap = fourStreams ? len / 4 : step;
    long stride = fourStreams ? step : 4L * step;
    long end = from + (fourStreams ? len / 4 : len);
    FloatVector a0 = FloatVector.zero(FS);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (long i = from; i < end; i += stride) {
      a0 = a0.add(FloatVector.fromMemorySegment(FS, seg, i, ByteOrder.LITTLE_ENDIAN));
      a1 = a1.add(FloatVector.fromMemorySegment(FS, seg, i + gap, ByteOrder.LITTLE_ENDIAN));
      a2 = a2.add(FloatVector.fromMemorySegment(FS, seg, i + 2 * gap, ByteOrder.LITTLE_ENDIAN));
      a3 = a3.add(FloatVector.fromMemorySegment(FS, seg, i + 3 * gap, ByteOrder.LITTLE_ENDIAN));
    }
    return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
  }
}
