package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvCache;

/**
 * One sequence's keys and values: a block table into {@link CpuKvBlocks}, position p in block
 * {@code table[p / blockTokens]}. The blocks may be shared with other sequences (a cached prompt
 * prefix) or, for a cache made on its own, belong to a private store sized to its capacity.
 */
final class CpuKvCache implements KvCache {
  final CpuKvBlocks blocks;
  final int[] table;
  final DType dtype;
  final int kvHeads;
  final int headDim;
  final int headPad;
  private final int capacity;
  private int length;

  CpuKvCache(CpuKvBlocks blocks, int[] table, int capacity) {
    if (capacity < 0 || (long) table.length * blocks.blockTokens < capacity) {
      throw new IllegalArgumentException("a block table of " + table.length + " blocks of " + blocks.blockTokens
          + " positions cannot hold " + capacity + " positions");
    }
    blocks.materialise(table);
    this.blocks = blocks;
    this.table = table.clone();
    this.dtype = blocks.dtype;
    this.kvHeads = blocks.kvHeads;
    this.headDim = blocks.headDim;
    this.headPad = blocks.headPad;
    this.capacity = capacity;
  }

  /** A cache with private blocks covering {@code capacity} positions. */
  static CpuKvCache standalone(int layers, int kvHeads, int headDim, int capacity, DType dtype) {
    CpuKvBlocks store = new CpuKvBlocks(layers, kvHeads, headDim, STANDALONE_BLOCK, dtype);
    int[] table = new int[Math.max(1, (capacity + store.blockTokens - 1) / store.blockTokens)];
    for (int i = 0; i < table.length; i++) {
      table[i] = i;
    }
    return new CpuKvCache(store, table, capacity);
  }

  /**
   * Block size of a cache made on its own: nothing is shared, so the size only has to keep one
   * block's array well inside an int's range for any model shape while not wasting much past
   * the capacity.
   */
  private static final int STANDALONE_BLOCK = 256;

  /** Bytes of the blocks this cache refers to (padding included). */
  long bytes() {
    return table.length * blocks.blockBytes();
  }

  @Override
  public int layers() {
    return blocks.layers;
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

  /** Round-to-nearest-even float32 to bfloat16 (NaN stays NaN). */
  static short toBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  /** Stores row {@code row} of k and v (kvHeads*headDim wide) at position {@code pos}. */
  void put(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
    int tile = MatMul.TB;
    int bt = blocks.blockTokens;
    int id = table[pos / bt];
    int within = pos % bt;
    int kAt = within / tile * headDim * tile + within % tile;
    int vAt = within * tile;
    int vChunk = bt * tile;
    for (int g = 0; g < kvHeads; g++) {
      int src = g * headDim;
      int kBase = blocks.base(layer, g) + kAt;
      int vBase = blocks.base(layer, g) + blocks.keySize + vAt;
      if (dtype == DType.F32) {
        float[] a = blocks.f32(id);
        for (int d = 0; d < headDim; d++) {
          a[kBase + d * tile] = k[kOff + src + d];
          a[vBase + d / tile * vChunk + d % tile] = v[vOff + src + d];
        }
      } else {
        short[] a = blocks.bf16(id);
        for (int d = 0; d < headDim; d++) {
          a[kBase + d * tile] = toBf16(k[kOff + src + d]);
          a[vBase + d / tile * vChunk + d % tile] = toBf16(v[vOff + src + d]);
        }
      }
    }
  }
}
