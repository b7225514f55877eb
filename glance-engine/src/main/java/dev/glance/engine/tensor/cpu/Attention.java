package dev.glance.engine.tensor.cpu;

import static dev.glance.engine.tensor.cpu.MatMul.FS;
import static dev.glance.engine.tensor.cpu.MatMul.NR;
import static dev.glance.engine.tensor.cpu.MatMul.TB;
import static dev.glance.engine.tensor.cpu.MatMul.VL;

import dev.glance.engine.tensor.DType;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Scaled dot-product attention that streams over keys in blocks of {@link MatMul#TB} with an
 * online softmax (running max and sum per query row), so no score matrix longer than one block
 * is ever held. A tile of up to {@link MatMul#NR} query rows (for grouped-query attention: the
 * query heads that share a KV head, at one or more positions) goes through the same register
 * micro-kernel as the matrix products, twice per block: scores = Q K^T with keys across the
 * vector lanes, then out += P V with head dimensions across the lanes.
 */
final class Attention {
  private static final FloatVector NEG_INF = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);

  private final ParallelRange parallel;
  private final Scratch[] scratch;
  private float[] packedKeys = new float[0];
  private float[] packedValues = new float[0];

  Attention(ParallelRange parallel) {
    this.parallel = parallel;
    scratch = new Scratch[parallel.threads()];
    for (int i = 0; i < scratch.length; i++) {
      scratch[i] = new Scratch();
    }
  }

  /** Per-worker buffers, grown to the largest head seen. */
  private static final class Scratch {
    float[] q = new float[0];
    final float[] s = new float[NR * TB];
    final float[] p = new float[TB * NR];
    float[] o = new float[0];
    final float[] m = new float[NR];
    final float[] l = new float[NR];
    final int[] lim = new int[NR];
    float[] kBlock = new float[0];
    float[] vBlock = new float[0];
    // Where the current key block lies: keys [d][TB] at kOff, values chunk c [key][TB] at
    // vOff + c * vChunk.
    float[] kArr;
    int kOff;
    float[] vArr;
    int vOff;
    int vChunk;

    void ensure(int headDim, int headPad) {
      if (q.length < headDim * NR) {
        q = new float[headDim * NR];
      }
      if (o.length < headPad * NR) {
        o = new float[headPad * NR];
      }
      if (kBlock.length < headDim * TB || vBlock.length < TB * headPad) {
        kBlock = new float[headDim * TB];
        vBlock = new float[TB * headPad];
      }
    }
  }

  /** Where the keys and values of a block starting at key j0 are; fills the scratch's pointers. */
  private interface KeyBlocks {
    void locate(Scratch sc, int j0);
  }

  /**
   * Causal grouped-query attention over the cache (see {@link dev.glance.engine.tensor.Backend}):
   * q [n][heads*headDim] at positions start.., out the same shape.
   */
  synchronized void causal(float[] q, int qCols, int n, CpuKvCache cache, int layer, int start, int heads,
      float[] out, int outCols) {
    int group = heads / cache.kvHeads;
    int tiles = (n * group + NR - 1) / NR;
    parallel.forEachWorker(cache.kvHeads * tiles, 1, (worker, from, to) -> {
      Scratch sc = scratch[worker];
      sc.ensure(cache.headDim, cache.headPad);
      for (int task = from; task < to; task++) {
        group(sc, q, qCols, 0, n, cache, layer, start, heads, task / tiles, task % tiles * NR, out, outCols);
      }
    });
  }

  /**
   * Batched decode: query row r (one position, {@code starts[r]}) attends over its own cache
   * {@code caches[r]}; rows, KV heads and query-head tiles are spread over the workers together.
   */
  synchronized void rows(float[] q, int qCols, CpuKvCache[] caches, int layer, int[] starts, int heads,
      float[] out, int outCols) {
    if (caches.length == 0) {
      return;
    }
    int kvHeads = caches[0].kvHeads;
    int group = heads / kvHeads;
    int tiles = (group + NR - 1) / NR;
    int perRow = kvHeads * tiles;
    parallel.forEachWorker(caches.length * perRow, 1, (worker, from, to) -> {
      Scratch sc = scratch[worker];
      for (int task = from; task < to; task++) {
        int r = task / perRow;
        int rest = task % perRow;
        CpuKvCache cache = caches[r];
        sc.ensure(cache.headDim, cache.headPad);
        group(sc, q, qCols, r, 1, cache, layer, starts[r], heads, rest / tiles, rest % tiles * NR, out, outCols);
      }
    });
  }

  /**
   * One tile of up to NR query rows sharing KV head g: rows i0.. of the (position, head-in-group)
   * pairs of q rows [rowBase, rowBase + n), at cache positions start.., written to out.
   */
  private static void group(Scratch sc, float[] q, int qCols, int rowBase, int n, CpuKvCache cache, int layer,
      int start, int heads, int g, int i0, float[] out, int outCols) {
    int hd = cache.headDim;
    int group = heads / cache.kvHeads;
    int rows = Math.min(NR, n * group - i0);
    float scale = (float) (1.0 / Math.sqrt(hd));
    Arrays.fill(sc.q, 0, hd * NR, 0f);
    for (int r = 0; r < rows; r++) {
      int pos = (i0 + r) / group;
      int h = g * group + (i0 + r) % group;
      int src = (rowBase + pos) * qCols + h * hd;
      for (int d = 0; d < hd; d++) {
        sc.q[d * NR + r] = q[src + d] * scale;
      }
      sc.lim[r] = start + pos + 1;
    }
    // Key block j0 lies in pool block table[j0 / bt], at offset j0 % bt (a multiple of TB).
    CpuKvBlocks pool = cache.blocks;
    int[] table = cache.table;
    int bt = pool.blockTokens;
    int kBase = pool.base(layer, g);
    int vBase = kBase + pool.keySize;
    KeyBlocks blocks = cache.dtype == DType.F32
        ? (s, j0) -> {
            float[] a = pool.f32(table[j0 / bt]);
            int within = j0 % bt;
            s.kArr = a;
            s.kOff = kBase + within * hd;
            s.vArr = a;
            s.vOff = vBase + within * TB;
            s.vChunk = bt * TB;
          }
        : (s, j0) -> widen(s, cache, kBase, vBase, j0);
    tile(sc, rows, hd, cache.headPad, 0, blocks);
    for (int r = 0; r < rows; r++) {
      int pos = (i0 + r) / group;
      int h = g * group + (i0 + r) % group;
      write(sc, r, hd, out, (rowBase + pos) * outCols + h * hd);
    }
  }

  /** Copies a bf16 key/value block (j0 a multiple of TB) to float32 scratch. */
  private static void widen(Scratch s, CpuKvCache cache, int kBase, int vBase, int j0) {
    CpuKvBlocks pool = cache.blocks;
    int bt = pool.blockTokens;
    short[] a = pool.bf16(cache.table[j0 / bt]);
    int within = j0 % bt;
    int hd = cache.headDim;
    int kLen = hd * TB;
    int kSrc = kBase + within * hd;
    for (int i = 0; i < kLen; i++) {
      s.kBlock[i] = Float.intBitsToFloat((a[kSrc + i] & 0xffff) << 16);
    }
    int chunks = cache.headPad / TB;
    for (int c = 0; c < chunks; c++) {
      int vSrc = vBase + c * bt * TB + within * TB;
      int dst = c * TB * TB;
      for (int i = 0; i < TB * TB; i++) {
        s.vBlock[dst + i] = Float.intBitsToFloat((a[vSrc + i] & 0xffff) << 16);
      }
    }
    s.kArr = s.kBlock;
    s.kOff = 0;
    s.vArr = s.vBlock;
    s.vOff = 0;
    s.vChunk = TB * TB;
  }

  /**
   * Bidirectional attention within segments; qkv [n][3*heads*headDim] (Q heads, K heads, V
   * heads), segment row starts plus n at the end; out [n][heads*headDim].
   */
  synchronized void segments(float[] qkv, int n, int heads, int hd, int[] starts, float[] out, int outCols) {
    int width = heads * hd;
    int stride = 3 * width;
    int headPad = (hd + TB - 1) / TB * TB;
    // Each segment's keys start at a whole key block, so blocks never straddle two images.
    int segments = starts.length - 1;
    int[] aligned = new int[segments + 1];
    for (int s = 0; s < segments; s++) {
      aligned[s + 1] = aligned[s] + (starts[s + 1] - starts[s] + TB - 1) / TB * TB;
    }
    int keysPad = aligned[segments] + TB;
    long need = (long) heads * hd * keysPad;
    long needV = (long) heads * keysPad * headPad;
    if (packedKeys.length < need) {
      packedKeys = new float[Math.toIntExact(need)];
    }
    if (packedValues.length < needV) {
      packedValues = new float[Math.toIntExact(needV)];
    }
    float[] kt = packedKeys;
    float[] vs = packedValues;
    // keys [head][block][d][TB], values [head][chunk][key][TB]; padding zero.
    parallel.forEach(heads, 1, (h0, h1) -> {
      for (int h = h0; h < h1; h++) {
        int kBase = h * hd * keysPad;
        int vBase = h * keysPad * headPad;
        Arrays.fill(kt, kBase, kBase + hd * keysPad, 0f);
        Arrays.fill(vs, vBase, vBase + keysPad * headPad, 0f);
        for (int s = 0; s < segments; s++) {
          for (int j = starts[s]; j < starts[s + 1]; j++) {
            int a = aligned[s] + j - starts[s];
            int kSrc = j * stride + width + h * hd;
            int vSrc = j * stride + 2 * width + h * hd;
            int kDst = kBase + a / TB * hd * TB + a % TB;
            for (int d = 0; d < hd; d++) {
              kt[kDst + d * TB] = qkv[kSrc + d];
              vs[vBase + d / TB * keysPad * TB + a * TB + d % TB] = qkv[vSrc + d];
            }
          }
        }
      }
    });
    // Tasks: (head, segment, tile of NR rows) in head-major order.
    int tasks = 0;
    for (int s = 0; s < segments; s++) {
      tasks += (starts[s + 1] - starts[s] + NR - 1) / NR;
    }
    int[] segOfTask = new int[tasks];
    int[] rowOfTask = new int[tasks];
    int t = 0;
    for (int s = 0; s < segments; s++) {
      for (int r = starts[s]; r < starts[s + 1]; r += NR) {
        segOfTask[t] = s;
        rowOfTask[t++] = r;
      }
    }
    int perHead = tasks;
    float scale = (float) (1.0 / Math.sqrt(hd));
    parallel.forEachWorker(heads * perHead, 1, (worker, from, to) -> {
      Scratch sc = scratch[worker];
      sc.ensure(hd, headPad);
      for (int task = from; task < to; task++) {
        int h = task / perHead;
        int seg = segOfTask[task % perHead];
        int r0 = rowOfTask[task % perHead];
        int hi = starts[seg + 1];
        int rows = Math.min(NR, hi - r0);
        Arrays.fill(sc.q, 0, hd * NR, 0f);
        for (int r = 0; r < rows; r++) {
          int src = (r0 + r) * stride + h * hd;
          for (int d = 0; d < hd; d++) {
            sc.q[d * NR + r] = qkv[src + d] * scale;
          }
          sc.lim[r] = aligned[seg] + hi - starts[seg];
        }
        int kBase = h * hd * keysPad;
        int vBase = h * keysPad * headPad;
        tile(sc, rows, hd, headPad, aligned[seg], (s, j0) -> {
          s.kArr = kt;
          s.kOff = kBase + j0 * hd;
          s.vArr = vs;
          s.vOff = vBase + j0 * TB;
          s.vChunk = keysPad * TB;
        });
        for (int r = 0; r < rows; r++) {
          write(sc, r, hd, out, (r0 + r) * outCols + h * hd);
        }
      }
    });
  }

  private static void write(Scratch sc, int r, int hd, float[] out, int at) {
    float inv = 1f / sc.l[r];
    for (int d = 0; d < hd; d++) {
      int c = d / TB;
      out[at + d] = sc.o[c * NR * TB + r * TB + d % TB] * inv;
    }
  }

  /**
   * One tile: rows query rows (packed, pre-scaled, in sc.q) against keys [lo, max lim) in
   * blocks; leaves unnormalised outputs in sc.o and the softmax sums in sc.l.
   */
  private static void tile(Scratch sc, int rows, int hd, int headPad, int lo, KeyBlocks blocks) {
    int chunks = headPad / TB;
    Arrays.fill(sc.o, 0, chunks * NR * TB, 0f);
    int end = lo;
    for (int r = 0; r < rows; r++) {
      sc.m[r] = Float.NEGATIVE_INFINITY;
      sc.l[r] = 0f;
      end = Math.max(end, sc.lim[r]);
    }
    float[] s = sc.s;
    float[] p = sc.p;
    for (int j0 = lo; j0 < end; j0 += TB) {
      blocks.locate(sc, j0);
      MatMul.kernel(sc.kArr, sc.kOff, sc.q, hd, s, 0, false);
      int keys = Math.min(TB, end - j0);
      for (int r = 0; r < NR; r++) {
        VectorMask<Float> m0 = r < rows ? FS.indexInRange(j0, sc.lim[r]) : FS.maskAll(false);
        if (!m0.anyTrue()) {
          for (int j = 0; j < TB; j++) {
            p[j * NR + r] = 0f;
          }
          continue;
        }
        VectorMask<Float> m1 = FS.indexInRange(j0 + VL, sc.lim[r]);
        FloatVector s0 = FloatVector.fromArray(FS, s, r * TB).blend(NEG_INF, m0.not());
        FloatVector s1 = FloatVector.fromArray(FS, s, r * TB + VL).blend(NEG_INF, m1.not());
        float mx = s0.max(s1).reduceLanes(VectorOperators.MAX);
        float mNew = Math.max(sc.m[r], mx);
        float corr = (float) Math.exp(sc.m[r] - mNew);
        FloatVector p0 = s0.sub(mNew).lanewise(VectorOperators.EXP);
        FloatVector p1 = s1.sub(mNew).lanewise(VectorOperators.EXP);
        sc.l[r] = sc.l[r] * corr + p0.add(p1).reduceLanes(VectorOperators.ADD);
        sc.m[r] = mNew;
        if (corr != 1f) {
          FloatVector cv = FloatVector.broadcast(FS, corr);
          for (int c = 0; c < chunks; c++) {
            int at = c * NR * TB + r * TB;
            FloatVector.fromArray(FS, sc.o, at).mul(cv).intoArray(sc.o, at);
            FloatVector.fromArray(FS, sc.o, at + VL).mul(cv).intoArray(sc.o, at + VL);
          }
        }
        p0.intoArray(s, r * TB);
        p1.intoArray(s, r * TB + VL);
        for (int j = 0; j < TB; j++) {
          p[j * NR + r] = s[r * TB + j];
        }
      }
      for (int c = 0; c < chunks; c++) {
        MatMul.kernel(sc.vArr, sc.vOff + c * sc.vChunk, p, keys, sc.o, c * NR * TB, true);
      }
    }
  }
}
