package dev.glance.cuda;

/**
 * A block of device memory from the {@link DeviceMemoryPool}. It goes back to the pool when it
 * becomes unreachable (tensors and KV caches have no close in the Backend interface); since all
 * work runs on one stream, a block reused by a later operation is only touched after earlier
 * operations on it have finished.
 */
public final class DeviceBuffer {
  private final long pointer;
  private final long bytes;

  DeviceBuffer(long pointer, long bytes) {
    this.pointer = pointer;
    this.bytes = bytes;
  }

  public long pointer() {
    return pointer;
  }

  public long bytes() {
    return bytes;
  }
}
