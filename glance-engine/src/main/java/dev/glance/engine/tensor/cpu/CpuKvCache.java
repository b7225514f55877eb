package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvCache;

/**
 * Keys and values per layer and KV head, laid out in panels for the blocked attention kernel:
 * keys in blocks of TB positions, each block transposed ([block][headDim][TB], so one vector
 * holds one dimension of TB consecutive keys), and values in TB-wide column chunks
 * ([chunk][position][TB]). Stored as float32, or as bfloat16 (half the
 * memory; rounded to nearest even on write, widened when a block is read). Position and head
 * dimension are padded to whole vector tiles so blocks never need bounds checks; the padding
 * stays zero.
 */
final class CpuKvCache implements KvCache {
  final DType dtype;
  final int kvHeads;
  final int headDim;
  /** Positions per head, padded to a whole number of key blocks plus one. */
  final int stride;
  /** Head dimension padded to a whole number of value tiles. */
  final int headPad;
  /** [layer][kvHead] -> keys [stride/TB][headDim][TB], values [headPad/TB][stride][TB]; f32 or bf16. */
  final float[][][] keys;
  final float[][][] values;
  final short[][][] keys16;
  final short[][][] values16;
  private final int capacity;
  private int length;

  CpuKvCache(int layers, int kvHeads, int headDim, int capacity, DType dtype) {
    if (dtype != DType.F32 && dtype != DType.BF16) {
      throw new IllegalArgumentException("KV cache dtype must be F32 or BF16, not " + dtype);
    }
    this.dtype = dtype;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.capacity = capacity;
    int tile = MatMul.TB;
    this.stride = Math.addExact((capacity + tile - 1) / tile * tile, tile);
    this.headPad = (headDim + tile - 1) / tile * tile;
    int kSize = Math.multiplyExact(headDim, stride);
    int vSize = Math.multiplyExact(stride, headPad);
    if (dtype == DType.F32) {
      keys = new float[layers][kvHeads][kSize];
      values = new float[layers][kvHeads][vSize];
      keys16 = null;
      values16 = null;
    } else {
      keys = null;
      values = null;
      keys16 = new short[layers][kvHeads][kSize];
      values16 = new short[layers][kvHeads][vSize];
    }
  }

  /** Bytes held (keys and values of every layer, padding included). */
  long bytes() {
    int layers = layers();
    long per = (long) headDim * stride + (long) stride * headPad;
    return layers * kvHeads * per * (dtype == DType.F32 ? 4 : 2);
  }

  @Override
  public int layers() {
    return keys != null ? keys.length : keys16.length;
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
    int kBase = pos / tile * headDim * tile + pos % tile;
    for (int g = 0; g < kvHeads; g++) {
      int src = g * headDim;
      if (dtype == DType.F32) {
        float[] kt = keys[layer][g];
        float[] vs = values[layer][g];
        for (int d = 0; d < headDim; d++) {
          kt[kBase + d * tile] = k[kOff + src + d];
          vs[d / tile * stride * tile + pos * tile + d % tile] = v[vOff + src + d];
        }
      } else {
        short[] kt = keys16[layer][g];
        short[] vs = values16[layer][g];
        for (int d = 0; d < headDim; d++) {
          kt[kBase + d * tile] = toBf16(k[kOff + src + d]);
          vs[d / tile * stride * tile + pos * tile + d % tile] = toBf16(v[vOff + src + d]);
        }
      }
    }
  }
}
