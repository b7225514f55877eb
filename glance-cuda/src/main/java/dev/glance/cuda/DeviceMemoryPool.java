package dev.glance.cuda;

import dev.glance.cuda.ffm.CuResult;
import dev.glance.cuda.ffm.CudaException;
import dev.glance.cuda.runtime.Device;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Device memory for activations, scratch buffers and KV caches, kept in size classes (powers of
 * two and three quarter-steps between them, so at most 25% is wasted) and reused instead of
 * freed. Buffers come back when the garbage collector finds them unreachable; the cleaner thread
 * only queues them, and the owner thread files them at its next allocation. When the device runs
 * out, the pool frees what it caches, asks for a collection, and tries once more.
 */
final class DeviceMemoryPool {
  private static final long MIN_CLASS = 512;

  private final Device device;
  private final Cleaner cleaner = Cleaner.create();
  private final ConcurrentLinkedQueue<long[]> returned = new ConcurrentLinkedQueue<>();
  private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
  private long cachedBytes;
  private long liveBytes;
  private long peakBytes;

  DeviceMemoryPool(Device device) {
    this.device = device;
  }

  /** The size class holding {@code bytes}: 512 B minimum, then 1, 1.25, 1.5, 1.75 x powers of two. */
  static long sizeClass(long bytes) {
    if (bytes <= MIN_CLASS) {
      return MIN_CLASS;
    }
    long p = Long.highestOneBit(bytes);
    if (p == bytes) {
      return bytes;
    }
    long step = Math.max(MIN_CLASS, p / 4);
    long c = (bytes + step - 1) / step * step;
    return c;
  }

  DeviceBuffer acquire(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("device buffer of " + bytes + " bytes");
    }
    drain();
    long size = sizeClass(bytes);
    ArrayDeque<Long> q = free.get(size);
    long ptr;
    if (q != null && !q.isEmpty()) {
      ptr = q.pop();
      cachedBytes -= size;
    } else {
      ptr = mallocOrReclaim(size);
    }
    liveBytes += size;
    peakBytes = Math.max(peakBytes, liveBytes + cachedBytes);
    DeviceBuffer b = new DeviceBuffer(ptr, size);
    cleaner.register(b, new Return(returned, ptr, size));
    return b;
  }

  private long mallocOrReclaim(long size) {
    try {
      return device.malloc(size);
    } catch (CudaException e) {
      if (e.code() != CuResult.OUT_OF_MEMORY) {
        throw e;
      }
      System.gc();
      try {
        Thread.sleep(50);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      drain();
      releaseCached();
      return device.malloc(size);
    }
  }

  /** Files buffers the cleaner queued. */
  private void drain() {
    long[] r;
    while ((r = returned.poll()) != null) {
      free.computeIfAbsent(r[1], k -> new ArrayDeque<>()).push(r[0]);
      cachedBytes += r[1];
      liveBytes -= r[1];
    }
  }

  /** Gives cached blocks back to the device. */
  void releaseCached() {
    device.synchronize();
    for (ArrayDeque<Long> q : free.values()) {
      for (long p : q) {
        device.free(p);
      }
    }
    free.clear();
    cachedBytes = 0;
  }

  long liveBytes() {
    return liveBytes;
  }

  long cachedBytes() {
    return cachedBytes;
  }

  long peakBytes() {
    return peakBytes;
  }

  /** Runs on the cleaner thread: must not touch the device or reference the buffer. */
  private record Return(ConcurrentLinkedQueue<long[]> queue, long ptr, long size) implements Runnable {
    @Override
    public void run() {
      queue.add(new long[] {ptr, size});
    }
  }
}
