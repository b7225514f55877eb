package dev.glance.cuda;

import dev.glance.engine.tensor.KvCache;

/** Keys and values of every layer in device memory, float32 [capacity][kvHeads*headDim] each. */
final class CudaKvCache implements KvCache {
  final DeviceBuffer[] keys;
  final DeviceBuffer[] values;
  final int kvHeads;
  final int headDim;
  private final int capacity;
  private int length;

  CudaKvCache(DeviceBuffer[] keys, DeviceBuffer[] values, int kvHeads, int headDim, int capacity) {
    this.keys = keys;
    this.values = values;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.capacity = capacity;
  }

  int width() {
    return kvHeads * headDim;
  }

  @Override
  public int layers() {
    return keys.length;
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public void setLength(int n) {
    if (n < 0 || n > capacity) {
      throw new IllegalArgumentException("KV length " + n + " outside [0, " + capacity + "]");
    }
    length = n;
  }
}
