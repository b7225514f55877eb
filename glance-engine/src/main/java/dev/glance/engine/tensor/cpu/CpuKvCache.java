package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.KvCache;

/** Keys and values per layer as [capacity][kvHeads*headDim] float arrays. */
final class CpuKvCache implements KvCache {
  final float[][] keys;
  final float[][] values;
  final int kvHeads;
  final int headDim;
  private final int capacity;
  private int length;

  CpuKvCache(int layers, int kvHeads, int headDim, int capacity) {
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.capacity = capacity;
    int width = kvHeads * headDim;
    keys = new float[layers][];
    values = new float[layers][];
    for (int l = 0; l < layers; l++) {
      keys[l] = new float[Math.multiplyExact(capacity, width)];
      values[l] = new float[capacity * width];
    }
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
