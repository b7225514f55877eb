package dev.glance.engine.tensor;

/**
 * The handful of operations the GLM-4V model needs, over tensors and weights that the backend owns.
 * The model code is written once against this interface; the CPU backend implements it with the
 * Java Vector API, a GPU backend with device kernels. All ops are float32 math on activations;
 * weights may be stored in any format the backend supports. Output tensors may alias inputs only
 * where an op says so.
 */
public interface Backend extends AutoCloseable {

  /** Prepares a checkpoint tensor as a [rows][cols] weight matrix (the bytes must match). */
  Weight matrix(TensorData data, int rows, int cols);

  /**
   * Prepares a checkpoint tensor as a weight stored in {@code format}: the stored dtype (then as
   * {@link #matrix(TensorData, int, int)}) or a block format (Q8_0, Q4_0) the backend quantises it
   * to once, here. Vectors (rows = 1) keep their precision whatever the format.
   */
  default Weight matrix(TensorData data, int rows, int cols, DType format) {
    if (format != data.dtype() && rows != 1) {
      throw new dev.glance.engine.GlanceException.Unsupported(
          "this backend cannot store " + data.name() + " as " + format);
    }
    return matrix(data, rows, cols);
  }

  /** Prepares a 1-D checkpoint tensor (norm weights, biases). */
  default Weight vector(TensorData data) {
    return matrix(data, 1, Math.toIntExact(data.elements()));
  }

  Tensor allocate(int rows, int cols);

  Tensor upload(float[] data, int rows, int cols);

  /** The same values with another shape (rows x cols unchanged); shares storage with t. */
  Tensor view(Tensor t, int rows, int cols);

  /** Overwrites the first src.length values of t (row-major) with src. */
  void write(Tensor t, float[] src);

  /** Copies a tensor's values, row-major, into {@code dst} (length >= rows x cols). */
  void download(Tensor t, float[] dst);

  /** Copies a tensor's row {@code row} into {@code dst}. */
  void downloadRow(Tensor t, int row, float[] dst);

  /** dst[dstRow + i] = src[srcRow + i] for i in [0, n); both tensors have the same width. */
  void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int n);

  /** out[i] = table[ids[i]]. */
  void embed(Weight table, int[] ids, Tensor out);

  /** out = x W^T (+ bias). x [n][in], W [outF][in], out [n][outF]. bias may be null. */
  void linear(Tensor x, Weight w, Weight bias, Tensor out);

  /** Root-mean-square norm of each row, times weight; out may be x. */
  void rmsNorm(Tensor x, Weight weight, float eps, Tensor out);

  /**
   * residual += rmsNorm(y) * weight, row by row (the sandwich-norm residual step, fused so the
   * rows are read once); y may be overwritten.
   */
  default void addRmsNorm(Tensor residual, Tensor y, Weight weight, float eps) {
    rmsNorm(y, weight, eps, y);
    add(residual, y, residual);
  }

  /** LayerNorm of each row with weight and bias; out may be x. */
  void layerNorm(Tensor x, Weight weight, Weight bias, float eps, Tensor out);

  /** out = a + b; out may be a or b. */
  void add(Tensor a, Tensor b, Tensor out);

  /** out[r][i] = silu(gateUp[r][i]) * gateUp[r][half + i], half = gateUp.cols / 2. */
  void siluGlu(Tensor gateUp, Tensor out);

  /** out = silu(gate) * up, element-wise; out may alias gate or up. */
  void siluMul(Tensor gate, Tensor up, Tensor out);

  /** Exact (erf) GELU, in place. */
  void gelu(Tensor x);

  /**
   * Rotary embedding on adjacent pairs (2j, 2j+1), j < cos.cols, of each head in columns
   * [colOffset, colOffset + heads*headDim) of x, in place. cos/sin are [x.rows][rotaryDim/2].
   */
  void rotaryInterleaved(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin);

  /**
   * Rotate-half rotary over each whole head (pairs i and i + headDim/2), in place, for heads in
   * columns [colOffset, colOffset + heads*headDim). cos/sin are [x.rows][headDim/2].
   */
  void rotaryHalf(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin);

  /**
   * Bidirectional attention within segments (one image frame each). qkv is [n][3*heads*headDim]
   * (all Q heads, then K, then V); segmentStarts lists each segment's first row, plus n at the end.
   * out is [n][heads*headDim].
   */
  void attentionSegments(Tensor qkv, int heads, int headDim, int[] segmentStarts, Tensor out);

  KvCache kvCache(int layers, int kvHeads, int headDim, int capacity);

  /** A KV cache storing keys and values as {@code dtype} (F32, or BF16 for half the memory). */
  default KvCache kvCache(int layers, int kvHeads, int headDim, int capacity, DType dtype) {
    if (dtype != DType.F32) {
      throw new dev.glance.engine.GlanceException.Unsupported("this backend has no " + dtype + " KV cache");
    }
    return kvCache(layers, kvHeads, headDim, capacity);
  }

  /**
   * Paged KV storage: blocks of {@code blockTokens} positions (a backend may round that up to its
   * kernel's key tile; the result says what it chose) that caches built with {@link
   * #kvCache(KvBlocks, int[], int)} address through block tables. Empty when the backend has no
   * paged KV; callers then use whole per-sequence caches and share nothing.
   */
  default java.util.Optional<KvBlocks> kvBlocks(int layers, int kvHeads, int headDim, int blockTokens,
      DType dtype) {
    return java.util.Optional.empty();
  }

  /**
   * A cache of {@code capacity} positions whose position p lies in block {@code table[p /
   * blockTokens]} of {@code blocks}; the table must cover the capacity. Blocks may appear in other
   * tables too: the caller must not write a shared block (positions it did not compute itself).
   */
  default KvCache kvCache(KvBlocks blocks, int[] table, int capacity) {
    throw new dev.glance.engine.GlanceException.Unsupported("this backend has no paged KV cache");
  }

  /** Writes k and v rows (kvHeads*headDim wide) at positions [start, start + k.rows) of a layer. */
  void writeKv(KvCache cache, int layer, int start, Tensor k, Tensor v);

  /**
   * Causal attention of q (rows = positions start.., heads*headDim wide) over the cached keys and
   * values of a layer at positions [0, start + row]; grouped-query: query head h reads KV head
   * h / (heads / kvHeads). out is [q.rows][heads*headDim].
   */
  void attentionCausal(Tensor q, KvCache cache, int layer, int start, int heads, Tensor out);

  /**
   * Batched decode: row r of k and v (one position each) goes to position {@code starts[r]} of
   * {@code caches[r]}, so one call serves sequences with separate caches and lengths. The default
   * copies each row through one-row tensors; backends override it to avoid the copies.
   */
  default void writeKvRows(KvCache[] caches, int layer, int[] starts, Tensor k, Tensor v) {
    Tensor k1 = allocate(1, k.cols());
    Tensor v1 = allocate(1, v.cols());
    for (int r = 0; r < caches.length; r++) {
      copyRows(k, r, k1, 0, 1);
      copyRows(v, r, v1, 0, 1);
      writeKv(caches[r], layer, starts[r], k1, v1);
    }
  }

  /**
   * Batched decode: row r of q (position {@code starts[r]} of its own sequence) attends causally
   * over {@code caches[r]} positions [0, starts[r]]; out row r gets the result. Same math as
   * {@link #attentionCausal} one row at a time.
   */
  default void attentionRows(Tensor q, KvCache[] caches, int layer, int[] starts, int heads, Tensor out) {
    Tensor q1 = allocate(1, q.cols());
    Tensor o1 = allocate(1, out.cols());
    for (int r = 0; r < caches.length; r++) {
      copyRows(q, r, q1, 0, 1);
      attentionCausal(q1, caches[r], layer, starts[r], heads, o1);
      copyRows(o1, 0, out, r, 1);
    }
  }

  @Override
  void close();
}
