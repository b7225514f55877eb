package dev.glance.engine.tensor.cpu;

import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvBlocks;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Quantizer;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU backend: activations on the heap, weights read in place from the mapped checkpoint or
 * from off-heap quantised blocks, every kernel split over all cores by one {@link ParallelRange}.
 * Kernels use the Java Vector API at the machine's preferred width. One thread drives a backend
 * at a time (the engine loop); kernels that keep scratch buffers serialise their callers.
 */
public final class CpuBackend implements Backend {
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  private static final int VL = FS.length();
  /** Element-wise work per chunk: small tensors (a decode step's rows) stay on one thread. */
  private static final int ELEMENT_GRAIN = 1 << 14;

  private final ParallelRange parallel;
  private final MatMul matmul;
  private final Attention attention;

  public CpuBackend(int threads) {
    this.parallel = new ParallelRange(threads);
    this.matmul = new MatMul(parallel);
    this.attention = new Attention(parallel);
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
    CpuWeight w = CpuWeight.of(data.name(), data.dtype(), data.data(), rows, cols);
    if (rows == 1) {
      // Norm weights and biases: converted once, read as plain floats by every kernel.
      float[] v = new float[cols];
      w.toFloats(0, 0, cols, v, 0);
      return new CpuWeight.Vec(data.name(), v);
    }
    return w;
  }

  @Override
  public Weight matrix(TensorData data, int rows, int cols, DType format) {
    Weight stored = matrix(data, rows, cols);
    if (format == data.dtype() || rows == 1) {
      return stored;
    }
    if (!format.quantized()) {
      throw new GlanceException.Unsupported("tensor " + data.name() + ": cannot convert " + data.dtype()
          + " weights to " + format + "; supported: Q8_0, Q4_0 or as stored");
    }
    return quantize((CpuWeight) stored, data.data(), format);
  }

  /**
   * Quantises a weight into off-heap memory owned by the returned weight (freed when it is no
   * longer reachable), rows in parallel; then tells the OS it may drop the source's mapped pages.
   */
  private CpuWeight quantize(CpuWeight src, MemorySegment source, DType format) {
    int rows = src.rows();
    int cols = src.cols();
    if (cols % DType.BLOCK != 0) {
      throw new GlanceException.Unsupported("tensor " + src.name() + " has rows of " + cols
          + " values; " + format + " needs a multiple of " + DType.BLOCK);
    }
    long rowBytes = format.rowBytes(cols);
    MemorySegment dst = Arena.ofAuto().allocate(rowBytes * rows, 64);
    parallel.forEach(rows, 64, (from, to) -> {
      float[] row = new float[cols];
      for (int r = from; r < to; r++) {
        src.toFloats(r, 0, cols, row, 0);
        Quantizer.quantize(format, row, 0, cols, dst, r * rowBytes);
      }
    });
    if (source.isMapped()) {
      source.unload();
    }
    return CpuWeight.of(src.name(), format, dst, rows, cols);
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
    for (int r = 0; r < ids.length; r++) {
      if (ids[r] < 0 || ids[r] >= w.rows()) {
        throw new GlanceException.BadRequest("token id " + ids[r] + " outside the vocabulary of " + w.rows());
      }
      w.toFloats(ids[r], 0, w.cols(), o.data(), r * w.cols());
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
    matmul.linear(w, in.data(), in.rows(), bias == null ? null : values(bias), o.data());
  }

  /** A vector weight's values (norm weights and biases are converted at load). */
  private static float[] values(Weight w) {
    if (w instanceof CpuWeight.Vec v) {
      return v.values();
    }
    CpuWeight c = (CpuWeight) w;
    float[] r = new float[c.rows() * c.cols()];
    for (int i = 0; i < c.rows(); i++) {
      c.toFloats(i, 0, c.cols(), r, i * c.cols());
    }
    return r;
  }

  @Override
  public void rmsNorm(Tensor x, Weight weight, float eps, Tensor out) {
    CpuTensor in = CpuTensor.of(x);
    CpuTensor o = CpuTensor.of(out);
    float[] g = values(weight);
    int cols = in.cols();
    float[] xs = in.data();
    float[] os = o.data();
    parallel.forEach(in.rows(), Math.max(1, ELEMENT_GRAIN / cols), (from, to) -> {
      for (int r = from; r < to; r++) {
        int base = r * cols;
        float inv = inverseRms(xs, base, cols, eps);
        FloatVector iv = FloatVector.broadcast(FS, inv);
        int upper = FS.loopBound(cols);
        int c = 0;
        for (; c < upper; c += VL) {
          FloatVector.fromArray(FS, xs, base + c).mul(iv).mul(FloatVector.fromArray(FS, g, c)).intoArray(os, base + c);
        }
        for (; c < cols; c++) {
          os[base + c] = xs[base + c] * inv * g[c];
        }
      }
    });
  }

  /** 1 / sqrt(mean(v[base .. base + cols)^2) + eps); the vector loop stays here (a scalar comes out). */
  private static float inverseRms(float[] v, int base, int cols, float eps) {
    int upper = FS.loopBound(cols);
    FloatVector acc = FloatVector.zero(FS);
    int c = 0;
    for (; c < upper; c += VL) {
      FloatVector x = FloatVector.fromArray(FS, v, base + c);
      acc = x.fma(x, acc);
    }
    double ss = acc.reduceLanes(VectorOperators.ADD);
    for (; c < cols; c++) {
      ss += v[base + c] * v[base + c];
    }
    return (float) (1.0 / Math.sqrt(ss / cols + eps));
  }

  @Override
  public void addRmsNorm(Tensor residual, Tensor y, Weight weight, float eps) {
    CpuTensor res = CpuTensor.of(residual);
    float[] ys = CpuTensor.of(y).data();
    float[] xs = res.data();
    float[] g = values(weight);
    int cols = res.cols();
    parallel.forEach(res.rows(), Math.max(1, ELEMENT_GRAIN / cols), (from, to) -> {
      for (int r = from; r < to; r++) {
        int base = r * cols;
        float inv = inverseRms(ys, base, cols, eps);
        FloatVector iv = FloatVector.broadcast(FS, inv);
        int upper = FS.loopBound(cols);
        int c = 0;
        for (; c < upper; c += VL) {
          FloatVector.fromArray(FS, ys, base + c).mul(iv).mul(FloatVector.fromArray(FS, g, c))
              .add(FloatVector.fromArray(FS, xs, base + c)).intoArray(xs, base + c);
        }
        for (; c < cols; c++) {
          xs[base + c] += ys[base + c] * inv * g[c];
        }
      }
    });
  }

  @Override
  public void layerNorm(Tensor x, Weight weight, Weight bias, float eps, Tensor out) {
    CpuTensor in = CpuTensor.of(x);
    CpuTensor o = CpuTensor.of(out);
    float[] g = values(weight);
    float[] b = values(bias);
    int cols = in.cols();
    parallel.forEach(in.rows(), Math.max(1, ELEMENT_GRAIN / cols), (from, to) -> {
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
    parallel.forEach(n, ELEMENT_GRAIN, (from, to) -> {
      int i = from;
      for (int upper = from + FS.loopBound(to - from); i < upper; i += VL) {
        FloatVector.fromArray(FS, x, i).add(FloatVector.fromArray(FS, y, i)).intoArray(o, i);
      }
      for (; i < to; i++) {
        o[i] = x[i] + y[i];
      }
    });
  }

  @Override
  public void siluGlu(Tensor gateUp, Tensor out) {
    CpuTensor gu = CpuTensor.of(gateUp);
    CpuTensor o = CpuTensor.of(out);
    int half = gu.cols() / 2;
    float[] gs = gu.data();
    float[] os = o.data();
    int oc = o.cols();
    int gc = gu.cols();
    parallel.forEach(gu.rows(), Math.max(1, ELEMENT_GRAIN / half), (from, to) -> {
      for (int r = from; r < to; r++) {
        int gb = r * gc;
        int ob = r * oc;
        int i = 0;
        for (int upper = FS.loopBound(half); i < upper; i += VL) {
          // silu(g) * u = g / (1 + exp(-g)) * u, written out here: no vector crosses a method.
          FloatVector g = FloatVector.fromArray(FS, gs, gb + i);
          g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(FS, gs, gb + half + i))
              .intoArray(os, ob + i);
        }
        for (; i < half; i++) {
          float g = gs[gb + i];
          os[ob + i] = g / (1f + (float) Math.exp(-g)) * gs[gb + half + i];
        }
      }
    });
  }

  @Override
  public void siluMul(Tensor gate, Tensor up, Tensor out) {
    float[] g = CpuTensor.of(gate).data();
    float[] u = CpuTensor.of(up).data();
    float[] o = CpuTensor.of(out).data();
    int n = gate.rows() * gate.cols();
    parallel.forEach(n, ELEMENT_GRAIN, (from, to) -> {
      int i = from;
      for (int upper = from + FS.loopBound(to - from); i < upper; i += VL) {
        FloatVector gv = FloatVector.fromArray(FS, g, i);
        gv.div(gv.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(FS, u, i)).intoArray(o, i);
      }
      for (; i < to; i++) {
        o[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
      }
    });
  }

  @Override
  public void gelu(Tensor x) {
    float[] d = CpuTensor.of(x).data();
    int n = x.rows() * x.cols();
    parallel.forEach(n, ELEMENT_GRAIN, (from, to) -> {
      for (int i = from; i < to; i++) {
        d[i] = (float) (0.5 * d[i] * (1 + Erf.erf(d[i] / Math.sqrt(2))));
      }
    });
  }

  @Override
  public void rotaryInterleaved(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin) {
    CpuTensor t = CpuTensor.of(x);
    float[] c = CpuTensor.of(cos).data();
    float[] s = CpuTensor.of(sin).data();
    float[] xs = t.data();
    int pairs = cos.cols();
    int cols = t.cols();
    parallel.forEach(t.rows(), Math.max(1, ELEMENT_GRAIN / (heads * headDim)), (from, to) -> {
      for (int r = from; r < to; r++) {
        for (int h = 0; h < heads; h++) {
          int base = r * cols + colOffset + h * headDim;
          for (int j = 0; j < pairs; j++) {
            float cj = c[r * pairs + j];
            float sj = s[r * pairs + j];
            float a = xs[base + 2 * j];
            float b = xs[base + 2 * j + 1];
            xs[base + 2 * j] = a * cj - b * sj;
            xs[base + 2 * j + 1] = b * cj + a * sj;
          }
        }
      }
    });
  }

  @Override
  public void rotaryHalf(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin) {
    CpuTensor t = CpuTensor.of(x);
    float[] c = CpuTensor.of(cos).data();
    float[] s = CpuTensor.of(sin).data();
    float[] xs = t.data();
    int half = headDim / 2;
    int cols = t.cols();
    parallel.forEach(t.rows(), Math.max(1, ELEMENT_GRAIN / (heads * headDim)), (from, to) -> {
      for (int r = from; r < to; r++) {
        int cb = r * half;
        for (int h = 0; h < heads; h++) {
          int base = r * cols + colOffset + h * headDim;
          int i = 0;
          for (int upper = FS.loopBound(half); i < upper; i += VL) {
            FloatVector a = FloatVector.fromArray(FS, xs, base + i);
            FloatVector b = FloatVector.fromArray(FS, xs, base + half + i);
            FloatVector ci = FloatVector.fromArray(FS, c, cb + i);
            FloatVector si = FloatVector.fromArray(FS, s, cb + i);
            a.mul(ci).sub(b.mul(si)).intoArray(xs, base + i);
            b.mul(ci).add(a.mul(si)).intoArray(xs, base + half + i);
          }
          for (; i < half; i++) {
            float ci = c[cb + i];
            float si = s[cb + i];
            float a = xs[base + i];
            float b = xs[base + i + half];
            xs[base + i] = a * ci - b * si;
            xs[base + i + half] = b * ci + a * si;
          }
        }
      }
    });
  }

  @Override
  public void attentionSegments(Tensor qkv, int heads, int headDim, int[] segmentStarts, Tensor out) {
    CpuTensor in = CpuTensor.of(qkv);
    CpuTensor o = CpuTensor.of(out);
    attention.segments(in.data(), in.rows(), heads, headDim, segmentStarts, o.data(), o.cols());
  }

  @Override
  public KvCache kvCache(int layers, int kvHeads, int headDim, int capacity) {
    return kvCache(layers, kvHeads, headDim, capacity, DType.F32);
  }

  @Override
  public KvCache kvCache(int layers, int kvHeads, int headDim, int capacity, DType dtype) {
    return CpuKvCache.standalone(layers, kvHeads, headDim, capacity, dtype);
  }

  @Override
  public Optional<KvBlocks> kvBlocks(int layers, int kvHeads, int headDim, int blockTokens, DType dtype) {
    return Optional.of(new CpuKvBlocks(layers, kvHeads, headDim, blockTokens, dtype));
  }

  @Override
  public KvCache kvCache(KvBlocks blocks, int[] table, int capacity) {
    if (!(blocks instanceof CpuKvBlocks store)) {
      throw new IllegalArgumentException("KV blocks of another backend: " + blocks.getClass().getName());
    }
    return new CpuKvCache(store, table, capacity);
  }

  /** Bytes a KV cache holds (for memory reports). */
  public static long kvBytes(KvCache cache) {
    return ((CpuKvCache) cache).bytes();
  }

  @Override
  public void writeKv(KvCache cache, int layer, int start, Tensor k, Tensor v) {
    CpuKvCache c = (CpuKvCache) cache;
    int width = c.kvHeads * c.headDim;
    if (start + k.rows() > c.capacity()) {
      throw new GlanceException.BadRequest("sequence of " + (start + k.rows())
          + " tokens exceeds the KV cache capacity " + c.capacity());
    }
    float[] ks = CpuTensor.of(k).data();
    float[] vs = CpuTensor.of(v).data();
    for (int r = 0; r < k.rows(); r++) {
      c.put(layer, start + r, ks, r * width, vs, r * width);
    }
  }

  @Override
  public void attentionCausal(Tensor q, KvCache cache, int layer, int start, int heads, Tensor out) {
    CpuTensor qs = CpuTensor.of(q);
    CpuTensor o = CpuTensor.of(out);
    attention.causal(qs.data(), qs.cols(), qs.rows(), (CpuKvCache) cache, layer, start, heads, o.data(), o.cols());
  }

  @Override
  public void writeKvRows(KvCache[] caches, int layer, int[] starts, Tensor k, Tensor v) {
    float[] ks = CpuTensor.of(k).data();
    float[] vs = CpuTensor.of(v).data();
    for (int r = 0; r < caches.length; r++) {
      CpuKvCache c = (CpuKvCache) caches[r];
      if (starts[r] + 1 > c.capacity()) {
        throw new GlanceException.BadRequest("sequence of " + (starts[r] + 1)
            + " tokens exceeds the KV cache capacity " + c.capacity());
      }
      c.put(layer, starts[r], ks, r * k.cols(), vs, r * v.cols());
    }
  }

  @Override
  public void attentionRows(Tensor q, KvCache[] caches, int layer, int[] starts, int heads, Tensor out) {
    CpuTensor qs = CpuTensor.of(q);
    CpuTensor o = CpuTensor.of(out);
    CpuKvCache[] cs = new CpuKvCache[caches.length];
    for (int r = 0; r < cs.length; r++) {
      cs[r] = (CpuKvCache) caches[r];
    }
    attention.rows(qs.data(), qs.cols(), cs, layer, starts, heads, o.data(), o.cols());
  }

  @Override
  public void close() {
    parallel.close();
  }
}
