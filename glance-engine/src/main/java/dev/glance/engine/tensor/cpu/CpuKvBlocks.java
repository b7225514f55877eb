package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvBlocks;
import java.util.Arrays;

/**
 * KV blocks in Java arrays, one array per block holding every layer and KV head, each (layer,
 * head) region in the panels the blocked attention kernel reads: keys [blockTokens/TB][headDim][TB]
 * (one vector holds one dimension of TB consecutive keys), then values
 * [headPad/TB][blockTokens][TB] (head dimensions across the lanes). Stored as float32 or bfloat16
 * (rounded to nearest even on write, widened when a block is read). A block's array is allocated
 * the first time a cache refers to its id, so the configured budget is a bound, not an up-front
 * cost; it is kept afterwards (a freed block is reused, not returned to the heap).
 *
 * <p>Reused blocks keep stale values past a sequence's length; the kernel never lets them count:
 * scores of keys at or past a row's limit are replaced by -inf before the softmax, and the P V
 * product reads only key rows below the block's end.
 */
final class CpuKvBlocks implements KvBlocks {
  final DType dtype;
  final int layers;
  final int kvHeads;
  final int headDim;
  /** Head dimension padded to a whole number of value tiles. */
  final int headPad;
  final int blockTokens;
  /** Values of one (layer, head) start this far after its keys. */
  final int keySize;
  /** Floats (or shorts) per (layer, head) region. */
  final int region;
  private final int blockLength;
  private float[][] f32 = new float[0][];
  private short[][] bf16 = new short[0][];
  private int materialised;

  /** {@code blockTokens} is rounded up to a whole number of key tiles ({@link MatMul#TB}). */
  CpuKvBlocks(int layers, int kvHeads, int headDim, int blockTokens, DType dtype) {
    if (dtype != DType.F32 && dtype != DType.BF16) {
      throw new IllegalArgumentException("KV cache dtype must be F32 or BF16, not " + dtype);
    }
    if (blockTokens < 1) {
      throw new IllegalArgumentException("a KV block must hold at least one position, got " + blockTokens);
    }
    int tile = MatMul.TB;
    this.dtype = dtype;
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.headPad = (headDim + tile - 1) / tile * tile;
    this.blockTokens = (blockTokens + tile - 1) / tile * tile;
    this.keySize = Math.multiplyExact(headDim, this.blockTokens);
    this.region = Math.addExact(keySize, Math.multiplyExact(headPad, this.blockTokens));
    this.blockLength = Math.multiplyExact(Math.multiplyExact(layers, kvHeads), region);
  }

  @Override
  public int blockTokens() {
    return blockTokens;
  }

  @Override
  public long blockBytes() {
    return (long) blockLength * (dtype == DType.F32 ? 4 : 2);
  }

  @Override
  public long bytes() {
    return materialised * blockBytes();
  }

  /** Allocates the storage of every block in the table not yet materialised. */
  void materialise(int[] table) {
    for (int id : table) {
      if (id < 0) {
        throw new IllegalArgumentException("negative KV block id " + id);
      }
      if (dtype == DType.F32) {
        if (id >= f32.length) {
          f32 = Arrays.copyOf(f32, Math.max(id + 1, f32.length * 2));
        }
        if (f32[id] == null) {
          f32[id] = new float[blockLength];
          materialised++;
        }
      } else {
        if (id >= bf16.length) {
          bf16 = Arrays.copyOf(bf16, Math.max(id + 1, bf16.length * 2));
        }
        if (bf16[id] == null) {
          bf16[id] = new short[blockLength];
          materialised++;
        }
      }
    }
  }

  float[] f32(int id) {
    return f32[id];
  }

  short[] bf16(int id) {
    return bf16[id];
  }

  /** Offset of the keys of (layer, KV head g) within a block's array; its values follow at + keySize. */
  int base(int layer, int g) {
    return (layer * kvHeads + g) * region;
  }
}
