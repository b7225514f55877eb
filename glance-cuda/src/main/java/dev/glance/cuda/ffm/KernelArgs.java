package dev.glance.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The {@code void** kernelParams} of cuLaunchKernel: one slot per kernel parameter, each slot
 * pointing at that parameter's value. Values sit in 8-byte cells (pointers and 64-bit integers
 * as 8 bytes, int and float in the low 4 bytes, little-endian), so every value is aligned for
 * its type. Built in one arena per launch; the driver copies the values at launch time.
 */
public final class KernelArgs {
  private static final int MAX = 24;

  private final MemorySegment values;
  private final MemorySegment pointers;
  private int count;

  public KernelArgs(Arena arena) {
    values = arena.allocate(8L * MAX, 8);
    pointers = arena.allocate(ADDRESS, MAX);
  }

  private MemorySegment next() {
    if (count == MAX) {
      throw new IllegalStateException("more than " + MAX + " kernel arguments");
    }
    MemorySegment cell = values.asSlice(8L * count, 8);
    pointers.setAtIndex(ADDRESS, count, cell);
    count++;
    return cell;
  }

  /** A device pointer (CUdeviceptr, 8 bytes). */
  public KernelArgs ptr(long devicePointer) {
    next().set(JAVA_LONG, 0, devicePointer);
    return this;
  }

  public KernelArgs i32(int v) {
    next().set(JAVA_INT, 0, v);
    return this;
  }

  public KernelArgs i64(long v) {
    next().set(JAVA_LONG, 0, v);
    return this;
  }

  public KernelArgs f32(float v) {
    next().set(JAVA_FLOAT, 0, v);
    return this;
  }

  /** Empties the list so the same buffers serve the next launch. */
  public KernelArgs reset() {
    count = 0;
    return this;
  }

  public int count() {
    return count;
  }

  /** The void*[] to pass as kernelParams. */
  public MemorySegment pointers() {
    return pointers;
  }

  /** The 8-byte cell of parameter i (for tests). */
  public MemorySegment cell(int i) {
    return values.asSlice(8L * i, 8);
  }
}
