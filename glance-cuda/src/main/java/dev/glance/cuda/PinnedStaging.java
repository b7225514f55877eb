package dev.glance.cuda;

import dev.glance.cuda.runtime.Device;
import java.lang.foreign.MemorySegment;

/**
 * One page-locked host buffer used as a ring for every host-device copy: a copy takes the next
 * slice; when the ring is full the stream is drained and the ring starts over. Weights go through
 * it in chunks, so a 20 GB checkpoint needs only this buffer of pinned memory.
 */
final class PinnedStaging {
  private static final long ALIGN = 256;

  private final Device device;
  private final MemorySegment buffer;
  private long head;

  PinnedStaging(Device device, long capacity) {
    this.device = device;
    this.buffer = device.mallocHost(capacity);
  }

  long capacity() {
    return buffer.byteSize();
  }

  /** A slice of {@code bytes} that no queued copy still reads or writes. */
  MemorySegment take(long bytes) {
    long size = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    if (size > buffer.byteSize()) {
      throw new IllegalArgumentException("staging slice of " + bytes + " bytes exceeds " + buffer.byteSize());
    }
    if (head + size > buffer.byteSize()) {
      device.synchronize();
      head = 0;
    }
    MemorySegment s = buffer.asSlice(head, bytes);
    head += size;
    return s;
  }

  /** Called after the stream was drained: every slice is free again. */
  void drained() {
    head = 0;
  }

  void close() {
    device.freeHost(buffer);
  }
}
