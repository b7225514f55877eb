package dev.glance.engine.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvBlocks;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Attention through block tables against a scalar reference, on random data of awkward sizes:
 * tables out of order, blocks shared between two sequences (a common prefix written once), reused
 * blocks full of stale NaNs past the sequence's length, prefill and batched decode, F32 and BF16.
 */
class PagedAttentionTest {
  private static final CpuBackend B = new CpuBackend(2);
  private final Random rnd = new Random(7);

  @AfterAll
  static void close() {
    B.close();
  }

  private float[] random(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return v;
  }

  /** What the stored values read back as. */
  private static float[] stored(float[] v, DType kv) {
    float[] r = v.clone();
    if (kv == DType.BF16) {
      for (int i = 0; i < r.length; i++) {
        r[i] = Float.intBitsToFloat(CpuKvCache.toBf16(r[i]) << 16);
      }
    }
    return r;
  }

  private static double[] attend(float[] q, int qo, float[] k, float[] v, int keys, int ko, int stride, int hd) {
    double[] scores = new double[keys];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < keys; j++) {
      double s = 0;
      for (int i = 0; i < hd; i++) {
        s += (double) q[qo + i] * k[j * stride + ko + i];
      }
      scores[j] = s / Math.sqrt(hd);
      max = Math.max(max, scores[j]);
    }
    double sum = 0;
    for (int j = 0; j < keys; j++) {
      scores[j] = Math.exp(scores[j] - max);
      sum += scores[j];
    }
    double[] out = new double[hd];
    for (int j = 0; j < keys; j++) {
      for (int i = 0; i < hd; i++) {
        out[i] += scores[j] / sum * v[j * stride + ko + i];
      }
    }
    return out;
  }

  private static void near(double[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i]));
      assertTrue(err <= 1e-5, what + ": element " + i + ": expected " + expected[i] + " got " + actual[i]);
    }
  }

  /** Causal attention of rows [start, start + n) of q against all keys [0, start + r]. */
  private static double[] reference(float[] q, float[] k, float[] v, int start, int n, int heads, int kvHeads,
      int hd) {
    int kvw = kvHeads * hd;
    double[] ref = new double[n * heads * hd];
    for (int r = 0; r < n; r++) {
      for (int h = 0; h < heads; h++) {
        int kvh = h / (heads / kvHeads);
        double[] o = attend(q, r * heads * hd + h * hd, k, v, start + r + 1, kvh * hd, kvw, hd);
        System.arraycopy(o, 0, ref, r * heads * hd + h * hd, hd);
      }
    }
    return ref;
  }

  /** Fills every block of the store with NaN, as a previous owner's leftovers at worst. */
  private static void poison(CpuKvBlocks store, int blocks) {
    int[] all = new int[blocks];
    for (int i = 0; i < blocks; i++) {
      all[i] = i;
    }
    store.materialise(all);
    for (int i = 0; i < blocks; i++) {
      if (store.dtype == DType.F32) {
        Arrays.fill(store.f32(i), Float.NaN);
      } else {
        Arrays.fill(store.bf16(i), CpuKvCache.toBf16(Float.NaN));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void sharedPrefixBlocksAndOwnBlocksAttendLikeOneContiguousSequence(DType kv) {
    int[][] shapes = {
      // heads, kvHeads, hd, shared prefix blocks, own positions after the prefix, prefill rows
      {4, 2, 9, 2, 21, 5}, {6, 3, 20, 1, 47, 29}, {16, 2, 32, 3, 5, 1}, {5, 1, 33, 0, 70, 70},
    };
    // One key tile per block, and three (key tiles at offsets inside a block).
    for (int requested : new int[] {1, 2 * MatMul.TB + 1}) {
    for (int layers : new int[] {1, 2}) {
      for (int[] s : shapes) {
        int heads = s[0];
        int kvHeads = s[1];
        int hd = s[2];
        KvBlocks blocks = B.kvBlocks(layers, kvHeads, hd, requested, kv).orElseThrow();
        CpuKvBlocks store = (CpuKvBlocks) blocks;
        int bt = blocks.blockTokens();
        assertEquals(0, bt % MatMul.TB, "blocks are whole key tiles");
        int prefix = s[3] * bt;
        int total = prefix + s[4];
        int n = s[5];
        int own = (total - prefix + bt - 1) / bt;
        int poolBlocks = s[3] + 2 * own + 3;
        poison(store, poolBlocks);
        // Sequence A owns blocks from the top of the pool down; sequence B shares A's prefix
        // blocks and takes its own blocks from the ids A left, in no particular order.
        int[] tableA = new int[s[3] + own];
        for (int i = 0; i < tableA.length; i++) {
          tableA[i] = poolBlocks - 1 - 2 * i;
        }
        int[] tableB = new int[s[3] + own];
        for (int i = 0; i < s[3]; i++) {
          tableB[i] = tableA[i];
        }
        for (int i = s[3]; i < tableB.length; i++) {
          tableB[i] = poolBlocks - 2 - 2 * (tableB.length - 1 - i + s[3]);
        }
        KvCache a = B.kvCache(blocks, tableA, total);
        KvCache b = B.kvCache(blocks, tableB, total);
        int kvw = kvHeads * hd;
        int layer = layers - 1;
        float[] kA = random(total * kvw);
        float[] vA = random(total * kvw);
        float[] kB = kA.clone();
        float[] vB = vA.clone();
        float[] kTail = random((total - prefix) * kvw);
        float[] vTail = random((total - prefix) * kvw);
        System.arraycopy(kTail, 0, kB, prefix * kvw, kTail.length);
        System.arraycopy(vTail, 0, vB, prefix * kvw, vTail.length);
        B.writeKv(a, layer, 0, B.upload(kA, total, kvw), B.upload(vA, total, kvw));
        // B writes only what follows the shared prefix.
        if (total > prefix) {
          B.writeKv(b, layer, prefix, B.upload(kTail, total - prefix, kvw), B.upload(vTail, total - prefix, kvw));
        }
        int start = total - n;
        float[] q = random(n * heads * hd);
        String what = kv + " layers " + layers + " shape " + Arrays.toString(s) + " block " + bt;
        Tensor outA = B.allocate(n, heads * hd);
        B.attentionCausal(B.upload(q, n, heads * hd), a, layer, start, heads, outA);
        float[] hostA = new float[n * heads * hd];
        B.download(outA, hostA);
        near(reference(q, stored(kA, kv), stored(vA, kv), start, n, heads, kvHeads, hd), hostA, what + " A");
        Tensor outB = B.allocate(n, heads * hd);
        B.attentionCausal(B.upload(q, n, heads * hd), b, layer, start, heads, outB);
        float[] hostB = new float[n * heads * hd];
        B.download(outB, hostB);
        near(reference(q, stored(kB, kv), stored(vB, kv), start, n, heads, kvHeads, hd), hostB, what + " B");

        // Batched decode: the last position of each sequence, each against its own table.
        float[] q2 = random(2 * heads * hd);
        Tensor out2 = B.allocate(2, heads * hd);
        B.attentionRows(B.upload(q2, 2, heads * hd), new KvCache[] {a, b}, layer, new int[] {total - 1, total - 1},
            heads, out2);
        float[] host2 = new float[2 * heads * hd];
        B.download(out2, host2);
        double[] refA = reference(q2, stored(kA, kv), stored(vA, kv), total - 1, 1, heads, kvHeads, hd);
        float[] q2b = Arrays.copyOfRange(q2, heads * hd, 2 * heads * hd);
        double[] refB = reference(q2b, stored(kB, kv), stored(vB, kv), total - 1, 1, heads, kvHeads, hd);
        double[] ref2 = new double[2 * heads * hd];
        System.arraycopy(refA, 0, ref2, 0, heads * hd);
        System.arraycopy(refB, 0, ref2, heads * hd, heads * hd);
        near(ref2, host2, what + " rows");
      }
    }
    }
  }

  @Test
  void blockSizeRoundsUpToWholeKeyTilesAndStorageIsTakenOnlyWhenUsed() {
    KvBlocks blocks = B.kvBlocks(3, 2, 24, MatMul.TB + 1, DType.BF16).orElseThrow();
    assertEquals(2 * MatMul.TB, blocks.blockTokens());
    assertEquals(0, blocks.bytes(), "nothing allocated before a cache refers to a block");
    B.kvCache(blocks, new int[] {1000, 3}, 2 * blocks.blockTokens());
    assertEquals(2 * blocks.blockBytes(), blocks.bytes(), "only the two blocks used are allocated");
    assertThrows(IllegalArgumentException.class, () -> B.kvCache(blocks, new int[] {1}, blocks.blockTokens() + 1));
  }
}
