package dev.glance.engine.tensor.cpu;

import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU backend: activations on the heap, weights read in place from the mapped checkpoint,
 * every kernel split over all cores by one {@link ParallelRange}.
 */
public final class CpuBackend implements Backend {
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  /** Output rows per linear-layer chunk: a chunk's weights stay in cache while each token passes. */
  private static final int LINEAR_ROW_BLOCK = 16;

  private final ParallelRange parallel;

  public CpuBackend(int threads) {
    this.parallel = new ParallelRange(threads);
  }

  public CpuBackend() {
    this(Runtime.getRuntime().availableProcessors());
  }

  public int threads() {
    return parallel.threads();
  }

  @Override
  public Weight matrix(TensorData data, int rows, int cols) {
    if (data.elements() != (long) rows * cols) {
      throw new GlanceException.ModelLoad(
          "tensor " + data.name() + " " + data.shapeString() + " cannot be viewed as " + rows + "x" + cols);
    }
    return CpuWeight.of(data.name(), data.dtype(), data.data(), rows, cols);
  }

  @Override
  public Tensor allocate(int rows, int cols) {
    return new CpuTensor(new float[Math.multiplyExact(rows, cols)], rows, cols);
  }

  @Override
  public Tensor upload(float[] data, int rows, int cols) {
    return new CpuTensor(data.clone(), rows, cols);
  }

  @Override
  public Tensor view(Tensor t, int rows, int cols) {
    CpuTensor c = CpuTensor.of(t);
    if ((long) rows * cols != (long) c.rows() * c.cols()) {
      throw new IllegalArgumentException("view " + c.rows() + "x" + c.cols() + " as " + rows + "x" + cols);
    }
    return new CpuTensor(c.data(), rows, cols);
  }

  @Override
  public void write(Tensor t, float[] src) {
    System.arraycopy(src, 0, CpuTensor.of(t).data(), 0, src.length);
  }

  @Override
  public void download(Tensor t, float[] dst) {
    CpuTensor c = CpuTensor.of(t);
    System.arraycopy(c.data(), 0, dst, 0, c.rows() * c.cols());
  }

  @Override
  public void downloadRow(Tensor t, int row, float[] dst) {
    CpuTensor c = CpuTensor.of(t);
    System.arraycopy(c.data(), row * c.cols(), dst, 0, c.cols());
  }

  @Override
  public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int n) {
    CpuTensor s = CpuTensor.of(src);
    CpuTensor d = CpuTensor.of(dst);
    if (s.cols() != d.cols()) {
      throw new IllegalArgumentException("copyRows: widths " + s.cols() + " and " + d.cols());
    }
    System.arraycopy(s.data(), srcRow * s.cols(), d.data(), dstRow * d.cols(), n * s.cols());
  }

  @Override
  public void embed(Weight table, int[] ids, Tensor out) {
    CpuWeight w = (CpuWeight) table;
    CpuTensor o = CpuTensor.of(out);
    int cols = w.cols();
    for (int r = 0; r < ids.length; r++) {
      if (ids[r] < 0 || ids[r] >= w.rows()) {
        throw new GlanceException.BadRequest("token id " + ids[r] + " outside the vocabulary of " + w.rows());
      }
      int base = r * cols;
      for (int c = 0; c < cols; c++) {
        o.data()[base + c] = w.get(ids[r], c);
      }
    }
  }

  @Override
  public void linear(Tensor x, Weight weight, Weight bias, Tensor out) {
    CpuTensor in = CpuTensor.of(x);
    CpuTensor o = CpuTensor.of(out);
    CpuWeight w = (CpuWeight) weight;
    if (in.cols() != w.cols() || o.cols() != w.rows() || o.rows() != in.rows()) {
      throw new IllegalArgumentException("linear " + w.name() + ": x " + in.rows() + "x" + in.cols()
          + ", W " + w.rows() + "x" + w.cols() + ", out " + o.rows() + "x" + o.cols());
    }
    float[] b = bias == null ? null : row((CpuWeight) bias);
    int n = in.rows();
    int inF = in.cols();
    int outF = w.rows();
    float[] xs = in.data();
    float[] os = o.data();
    int blocks = (outF + LINEAR_ROW_BLOCK - 1) / LINEAR_ROW_BLOCK;
    parallel.forEach(blocks, 1, (from, to) -> {
      int r0 = from * LINEAR_ROW_BLOCK;
      int r1 = Math.min(outF, to * LINEAR_ROW_BLOCK);
      for (int blk = r0; blk < r1; blk += LINEAR_ROW_BLOCK) {
        int end = Math.min(r1, blk + LINEAR_ROW_BLOCK);
        for (int t = 0; t < n; t++) {
          int xo = t * inF;
          int oo = t * outF;
          for (int r = blk; r < end; r++) {
            float v = w.dot(r, xs, xo);
            os[oo + r] = b == null ? v : v + b[r];
          }
        }
      }
    });
  }

  /** A vector weight as a float array (norm weights and biases are small). */
  private static float[] row(CpuWeight w) {
    float[] r = new float[w.rows() * w.cols()];
    for (int i = 0; i < w.rows(); i++) {
      for (int j = 0; j < w.cols(); j++) {
        r[i * w.cols() + j] = w.get(i, j);
      }
    }
    return r;
  }

  @Override
  public void rmsNorm(Tensor x, Weight weight, float eps, Tensor out) {
    CpuTensor in = CpuTensor.of(x);
    CpuTensor o = CpuTensor.of(out);
    float[] g = row((CpuWeight) weight);
    int cols = in.cols();
    parallel.forEach(in.rows(), 8, (from, to) -> {
      for (int r = from; r < to; r++) {
        int base = r * cols;
        double ss = 0;
        for (int c = 0; c < cols; c++) {
          float v = in.data()[base + c];
          ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / cols + eps));
        for (int c = 0; c < cols; c++) {
          o.data()[base + c] = in.data()[base + c] * inv * g[c];
        }
      }
    });
  }

  @Override
  public void layerNorm(Tensor x, Weight weight, Weight bias, float eps, Tensor out) {
    CpuTensor in = CpuTensor.of(x);
    CpuTensor o = CpuTensor.of(out);
    float[] g = row((CpuWeight) weight);
    float[] b = row((CpuWeight) bias);
    int cols = in.cols();
    parallel.forEach(in.rows(), 8, (from, to) -> {
      for (int r = from; r < to; r++) {
        int base = r * cols;
        double mean = 0;
        for (int c = 0; c < cols; c++) {
          mean += in.data()[base + c];
        }
        mean /= cols;
        double var = 0;
        for (int c = 0; c < cols; c++) {
          double d = in.data()[base + c] - mean;
          var += d * d;
        }
        var /= cols;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        float m = (float) mean;
        for (int c = 0; c < cols; c++) {
          o.data()[base + c] = (in.data()[base + c] - m) * inv * g[c] + b[c];
        }
      }
    });
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    float[] x = CpuTensor.of(a).data();
    float[] y = CpuTensor.of(b).data();
    float[] o = CpuTensor.of(out).data();
    int n = a.rows() * a.cols();
    for (int i = 0; i < n; i++) {
      o[i] = x[i] + y[i];
    }
  }

  @Override
  public void siluGlu(Tensor gateUp, Tensor out) {
    CpuTensor gu = CpuTensor.of(gateUp);
    CpuTensor o = CpuTensor.of(out);
    int half = gu.cols() / 2;
    for (int r = 0; r < gu.rows(); r++) {
      int gb = r * gu.cols();
      int ob = r * o.cols();
      for (int i = 0; i < half; i++) {
        float g = gu.data()[gb + i];
        o.data()[ob + i] = g / (1f + (float) Math.exp(-g)) * gu.data()[gb + half + i];
      }
    }
  }

  @Override
  public void siluMul(Tensor gate, Tensor up, Tensor out) {
    float[] g = CpuTensor.of(gate).data();
    float[] u = CpuTensor.of(up).data();
    float[] o = CpuTensor.of(out).data();
    int n = gate.rows() * gate.cols();
    for (int i = 0; i < n; i++) {
      o[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
    }
  }

  @Override
  public void gelu(Tensor x) {
    float[] d = CpuTensor.of(x).data();
    int n = x.rows() * x.cols();
    for (int i = 0; i < n; i++) {
      d[i] = (float) (0.5 * d[i] * (1 + Erf.erf(d[i] / Math.sqrt(2))));
    }
  }

  @Override
  public void rotaryInterleaved(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin) {
    CpuTensor t = CpuTensor.of(x);
    float[] c = CpuTensor.of(cos).data();
    float[] s = CpuTensor.of(sin).data();
    int pairs = cos.cols();
    for (int r = 0; r < t.rows(); r++) {
      for (int h = 0; h < heads; h++) {
        int base = r * t.cols() + colOffset + h * headDim;
        for (int j = 0; j < pairs; j++) {
          float cj = c[r * pairs + j];
          float sj = s[r * pairs + j];
          float a = t.data()[base + 2 * j];
          float b = t.data()[base + 2 * j + 1];
          t.data()[base + 2 * j] = a * cj - b * sj;
          t.data()[base + 2 * j + 1] = b * cj + a * sj;
        }
      }
    }
  }

  @Override
  public void rotaryHalf(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin) {
    CpuTensor t = CpuTensor.of(x);
    float[] c = CpuTensor.of(cos).data();
    float[] s = CpuTensor.of(sin).data();
    int half = headDim / 2;
    for (int r = 0; r < t.rows(); r++) {
      for (int h = 0; h < heads; h++) {
        int base = r * t.cols() + colOffset + h * headDim;
        for (int i = 0; i < half; i++) {
          float ci = c[r * half + i];
          float si = s[r * half + i];
          float a = t.data()[base + i];
          float b = t.data()[base + i + half];
          t.data()[base + i] = a * ci - b * si;
          t.data()[base + i + half] = b * ci + a * si;
        }
      }
    }
  }

  @Override
  public void attentionSegments(Tensor qkv, int heads, int headDim, int[] segmentStarts, Tensor out) {
    CpuTensor in = CpuTensor.of(qkv);
    CpuTensor o = CpuTensor.of(out);
    int width = heads * headDim;
    int stride = in.cols();
    float scale = (float) (1.0 / Math.sqrt(headDim));
    int n = in.rows();
    // One work item per (head, query row); rows know their segment through a lookup table.
    int[] segOf = new int[n];
    for (int s = 0; s + 1 < segmentStarts.length; s++) {
      for (int r = segmentStarts[s]; r < segmentStarts[s + 1]; r++) {
        segOf[r] = s;
      }
    }
    parallel.forEach(heads * n, 16, (from, to) -> {
      float[] scores = null;
      for (int item = from; item < to; item++) {
        int h = item / n;
        int r = item % n;
        int lo = segmentStarts[segOf[r]];
        int hi = segmentStarts[segOf[r] + 1];
        if (scores == null || scores.length < hi - lo) {
          scores = new float[hi - lo];
        }
        attendRow(in.data(), r * stride + h * headDim, in.data(), stride, width + h * headDim,
            2 * width + h * headDim, lo, hi, headDim, scale, scores, o.data(), r * o.cols() + h * headDim);
      }
    });
  }

  /**
   * One query row against keys/values at rows [lo, hi) of a row-major store; keys of row j start
   * at j*stride + kOff, values at j*stride + vOff. Softmax in float32 with the max subtracted.
   */
  private static void attendRow(float[] q, int qOff, float[] kv, int stride, int kOff, int vOff,
      int lo, int hi, int headDim, float scale, float[] scores, float[] out, int outOff) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = lo; j < hi; j++) {
      float s = dot(q, qOff, kv, j * stride + kOff, headDim) * scale;
      scores[j - lo] = s;
      max = Math.max(max, s);
    }
    float sum = 0;
    for (int j = lo; j < hi; j++) {
      float e = (float) Math.exp(scores[j - lo] - max);
      scores[j - lo] = e;
      sum += e;
    }
    float inv = 1f / sum;
    java.util.Arrays.fill(out, outOff, outOff + headDim, 0f);
    for (int j = lo; j < hi; j++) {
      axpy(scores[j - lo] * inv, kv, j * stride + vOff, out, outOff, headDim);
    }
  }

  private static float dot(float[] a, int ao, float[] b, int bo, int n) {
    int upper = FS.loopBound(n);
    FloatVector acc = FloatVector.zero(FS);
    int i = 0;
    for (; i < upper; i += FS.length()) {
      acc = FloatVector.fromArray(FS, a, ao + i).fma(FloatVector.fromArray(FS, b, bo + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += a[ao + i] * b[bo + i];
    }
    return s;
  }

  private static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
    int upper = FS.loopBound(n);
    FloatVector a = FloatVector.broadcast(FS, alpha);
    int i = 0;
    for (; i < upper; i += FS.length()) {
      FloatVector.fromArray(FS, x, xo + i)
          .fma(a, FloatVector.fromArray(FS, y, yo + i))
          .intoArray(y, yo + i);
    }
    for (; i < n; i++) {
      y[yo + i] += alpha * x[xo + i];
    }
  }

  @Override
  public KvCache kvCache(int layers, int kvHeads, int headDim, int capacity) {
    return new CpuKvCache(layers, kvHeads, headDim, capacity);
  }

  @Override
  public void writeKv(KvCache cache, int layer, int start, Tensor k, Tensor v) {
    CpuKvCache c = (CpuKvCache) cache;
    int width = c.kvHeads * c.headDim;
    if (start + k.rows() > c.capacity()) {
      throw new GlanceException.BadRequest("sequence of " + (start + k.rows())
          + " tokens exceeds the KV cache capacity " + c.capacity());
    }
    System.arraycopy(CpuTensor.of(k).data(), 0, c.keys[layer], start * width, k.rows() * width);
    System.arraycopy(CpuTensor.of(v).data(), 0, c.values[layer], start * width, v.rows() * width);
  }

  @Override
  public void attentionCausal(Tensor q, KvCache cache, int layer, int start, int heads, Tensor out) {
    CpuKvCache c = (CpuKvCache) cache;
    CpuTensor qs = CpuTensor.of(q);
    CpuTensor o = CpuTensor.of(out);
    int headDim = c.headDim;
    int group = heads / c.kvHeads;
    int kvWidth = c.kvHeads * headDim;
    float scale = (float) (1.0 / Math.sqrt(headDim));
    float[] keys = c.keys[layer];
    float[] values = c.values[layer];
    int n = qs.rows();
    parallel.forEach(heads * n, 4, (from, to) -> {
      float[] scores = new float[start + n];
      for (int item = from; item < to; item++) {
        int h = item / n;
        int r = item % n;
        int kvh = h / group;
        // Keys and values live in separate arrays here, so pass each with its own offset.
        attendRowSplit(qs.data(), r * qs.cols() + h * headDim, keys, values, kvWidth, kvh * headDim,
            start + r + 1, headDim, scale, scores, o.data(), r * o.cols() + h * headDim);
      }
    });
  }

  private static void attendRowSplit(float[] q, int qOff, float[] keys, float[] values, int stride,
      int off, int len, int headDim, float scale, float[] scores, float[] out, int outOff) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < len; j++) {
      float s = dot(q, qOff, keys, j * stride + off, headDim) * scale;
      scores[j] = s;
      max = Math.max(max, s);
    }
    float sum = 0;
    for (int j = 0; j < len; j++) {
      float e = (float) Math.exp(scores[j] - max);
      scores[j] = e;
      sum += e;
    }
    float inv = 1f / sum;
    java.util.Arrays.fill(out, outOff, outOff + headDim, 0f);
    for (int j = 0; j < len; j++) {
      axpy(scores[j] * inv, values, j * stride + off, out, outOff, headDim);
    }
  }

  @Override
  public void close() {
    parallel.close();
  }
}
