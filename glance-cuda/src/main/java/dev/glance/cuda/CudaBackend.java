package dev.glance.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.glance.cuda.ffm.KernelArgs;
import dev.glance.cuda.runtime.Device;
import dev.glance.cuda.runtime.DeviceInfo;
import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The GPU backend: activations are float32 device tensors, matrix weights bf16 in device memory
 * (uploaded once through a pinned staging ring), vectors float32. Linear layers with at most
 * {@link #GEMV_MAX_ROWS} rows (decode) run a bf16 x fp32 matrix-vector kernel that keeps the
 * activations in float32; larger ones round the activations to bf16 and run a cuBLASLt GEMM with
 * fp32 accumulation. Every other op is one of the CUDA C kernels in {@code kernels/}. Ops are
 * queued on one stream and return at once; only downloads wait.
 *
 * <p>One thread at a time: every op takes the backend's lock and makes the CUDA context current
 * on the calling thread (a virtual thread may run on another carrier each time, so it is bound on
 * every op). Funnelling each op through an executor thread instead would cost a thread hand-off
 * per op, about 700 ops per decoded token.
 */
public final class CudaBackend implements Backend {
  /** Linear layers with up to this many rows use the matrix-vector kernel (see matvec.cu). */
  public static final int GEMV_MAX_ROWS = 8;
  /** Most head dimensions attention supports (see attention.cu). */
  public static final int MAX_HEAD_DIM = 256;
  /** Decode attention splits the cache into parts of about this many keys, combined afterwards. */
  static final int SPLIT_KEYS = 256;
  private static final int MAX_SPLITS = 64;
  private static final long STAGING_BYTES = 64L << 20;
  private static final ValueLayout.OfFloat F32 = JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final Device device;
  private final DeviceMemoryPool pool;
  private final PinnedStaging staging;
  private final ReentrantLock lock = new ReentrantLock();
  private final Arena arena = Arena.ofShared();
  private final KernelArgs args;
  private final List<Long> weightPointers = new ArrayList<>();
  private final List<CudaWeight> matrices = new ArrayList<>();
  private long weightBytes;
  /**
   * Per-op scratch (token ids, bf16 copies of GEMM inputs, attention partials, key ranges), one
   * buffer per use, grown when too small. Reusing it at once is safe: every op runs on the one
   * stream, so the next op's writes come after the previous op's reads. This keeps the decode
   * loop from asking the pool (and, until the collector returns buffers, the driver) each step.
   */
  private final DeviceBuffer[] scratch = new DeviceBuffer[Scratch.values().length];

  private enum Scratch { IDS, GEMM_INPUT, PARTIAL, ROW_LO, ROW_HI, RESULT }

  private Thread boundThread;
  private boolean closed;

  public CudaBackend(Device device) {
    this.device = device;
    device.bind();
    this.pool = new DeviceMemoryPool(device);
    this.staging = new PinnedStaging(device, STAGING_BYTES);
    this.args = new KernelArgs(arena);
  }

  public DeviceInfo info() {
    return device.info();
  }

  public Device device() {
    return device;
  }

  /** Bytes of weights uploaded so far. */
  public long weightBytes() {
    return weightBytes;
  }

  /** Device memory held for activations and caches (in use, cached for reuse, peak). */
  public long[] poolBytes() {
    return new long[] {pool.liveBytes(), pool.cachedBytes(), pool.peakBytes()};
  }

  private void enter() {
    lock.lock();
    if (closed) {
      lock.unlock();
      throw new IllegalStateException("CUDA backend closed");
    }
    Thread t = Thread.currentThread();
    if (t != boundThread || t.isVirtual()) {
      device.bind();
      boundThread = t;
    }
  }

  private void exit() {
    lock.unlock();
  }

  private DeviceBuffer scratch(Scratch use, long bytes) {
    DeviceBuffer b = scratch[use.ordinal()];
    if (b == null || b.bytes() < bytes) {
      b = pool.acquire(Math.max(bytes, b == null ? 4096 : 2 * b.bytes()));
      scratch[use.ordinal()] = b;
    }
    return b;
  }

  private KernelArgs args() {
    return args.reset();
  }

  static int grid(long n) {
    return (int) Math.max(1, Math.min((n + 255) / 256, 8192));
  }

  // ---- weights -------------------------------------------------------------------------------

  @Override
  public Weight matrix(TensorData data, int rows, int cols) {
    if (data.elements() != (long) rows * cols) {
      throw new GlanceException.ModelLoad(
          "tensor " + data.name() + " " + data.shapeString() + " cannot be viewed as " + rows + "x" + cols);
    }
    if (data.dtype() != DType.BF16 && data.dtype() != DType.F16 && data.dtype() != DType.F32) {
      throw new GlanceException.Unsupported("tensor " + data.name() + " has dtype " + data.dtype()
          + "; the CUDA backend takes BF16, F16 or F32 weights");
    }
    enter();
    try {
      boolean bf16 = rows > 1;
      long n = (long) rows * cols;
      long bytes = n * (bf16 ? 2 : 4);
      long ptr = device.malloc(Math.max(bytes, 256));
      weightPointers.add(ptr);
      weightBytes += bytes;
      int width = bf16 ? 2 : 4;
      long chunk = staging.capacity() / 4 / width;
      for (long from = 0; from < n; from += chunk) {
        long count = Math.min(chunk, n - from);
        MemorySegment slice = staging.take(count * width);
        if (bf16) {
          toBf16(data, from, count, slice);
        } else {
          for (long i = 0; i < count; i++) {
            slice.setAtIndex(F32, i, data.getFloat(from + i));
          }
        }
        device.copyToDevice(ptr + from * width, slice, count * width);
      }
      CudaWeight w = new CudaWeight(data.name(), rows, cols, bf16, ptr, bytes);
      if (bf16) {
        matrices.add(w);
      }
      return w;
    } finally {
      exit();
    }
  }

  /** Elements [from, from + count) of a checkpoint tensor as bf16 bits in {@code dst}. */
  static void toBf16(TensorData data, long from, long count, MemorySegment dst) {
    if (data.dtype() == DType.BF16) {
      MemorySegment.copy(data.data(), from * 2, dst, 0, count * 2);
      return;
    }
    for (long i = 0; i < count; i++) {
      dst.setAtIndex(JAVA_SHORT, i, Bf16.fromFloat(data.getFloat(from + i)));
    }
  }

  // ---- tensors ---------------------------------------------------------------------------------

  @Override
  public Tensor allocate(int rows, int cols) {
    enter();
    try {
      long bytes = Math.multiplyExact((long) rows, cols) * Float.BYTES;
      DeviceBuffer b = pool.acquire(Math.max(bytes, 4));
      device.zero(b.pointer(), Math.max(bytes, 4));
      return new CudaTensor(b, 0, rows, cols);
    } finally {
      exit();
    }
  }

  @Override
  public Tensor upload(float[] data, int rows, int cols) {
    if ((long) rows * cols > data.length) {
      throw new IllegalArgumentException(rows + "x" + cols + " tensor from " + data.length + " floats");
    }
    enter();
    try {
      long bytes = (long) rows * cols * Float.BYTES;
      DeviceBuffer b = pool.acquire(Math.max(bytes, 4));
      CudaTensor t = new CudaTensor(b, 0, rows, cols);
      writeFloats(t.pointer(), data, rows * cols);
      return t;
    } finally {
      exit();
    }
  }

  private void writeFloats(long dst, float[] src, int n) {
    long chunk = staging.capacity() / 4 / Float.BYTES;
    for (long from = 0; from < n; from += chunk) {
      int count = (int) Math.min(chunk, n - from);
      MemorySegment slice = staging.take((long) count * Float.BYTES);
      MemorySegment.copy(src, (int) from, slice, F32, 0, count);
      device.copyToDevice(dst + from * Float.BYTES, slice, (long) count * Float.BYTES);
    }
  }

  private DeviceBuffer uploadInts(int[] values) {
    return uploadInts(values, pool.acquire(Math.max(4L, (long) values.length * 4)));
  }

  private DeviceBuffer uploadInts(int[] values, DeviceBuffer b) {
    if (values.length > 0) {
      MemorySegment slice = staging.take((long) values.length * 4);
      MemorySegment.copy(values, 0, slice, JAVA_INT, 0, values.length);
      device.copyToDevice(b.pointer(), slice, (long) values.length * 4);
    }
    return b;
  }

  @Override
  public Tensor view(Tensor t, int rows, int cols) {
    CudaTensor c = CudaTensor.of(t);
    if ((long) rows * cols != c.elements()) {
      throw new IllegalArgumentException("view " + c.rows() + "x" + c.cols() + " as " + rows + "x" + cols);
    }
    return new CudaTensor(c.buffer(), c.offset(), rows, cols);
  }

  @Override
  public void write(Tensor t, float[] src) {
    CudaTensor c = CudaTensor.of(t);
    if (src.length > c.elements()) {
      throw new IllegalArgumentException("write of " + src.length + " floats into " + c.rows() + "x" + c.cols());
    }
    enter();
    try {
      writeFloats(c.pointer(), src, src.length);
    } finally {
      exit();
    }
  }

  @Override
  public void download(Tensor t, float[] dst) {
    CudaTensor c = CudaTensor.of(t);
    readFloats(c.pointer(), dst, 0, Math.toIntExact(c.elements()));
  }

  @Override
  public void downloadRow(Tensor t, int row, float[] dst) {
    CudaTensor c = CudaTensor.of(t);
    if (row < 0 || row >= c.rows()) {
      throw new IllegalArgumentException("row " + row + " of " + c.rows());
    }
    readFloats(c.pointer() + (long) row * c.cols() * Float.BYTES, dst, 0, c.cols());
  }

  private void readFloats(long src, float[] dst, int dstOffset, int n) {
    if (dst.length - dstOffset < n) {
      throw new IllegalArgumentException("download of " + n + " floats into " + (dst.length - dstOffset));
    }
    enter();
    try {
      long chunk = staging.capacity() / 2 / Float.BYTES;
      for (long from = 0; from < n; from += chunk) {
        int count = (int) Math.min(chunk, n - from);
        MemorySegment slice = staging.take((long) count * Float.BYTES);
        device.copyToHost(slice, src + from * Float.BYTES, (long) count * Float.BYTES);
        device.synchronize();
        staging.drained();
        MemorySegment.copy(slice, F32, 0, dst, dstOffset + (int) from, count);
      }
    } finally {
      exit();
    }
  }

  @Override
  public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int n) {
    CudaTensor s = CudaTensor.of(src);
    CudaTensor d = CudaTensor.of(dst);
    if (s.cols() != d.cols()) {
      throw new IllegalArgumentException("copyRows: widths " + s.cols() + " and " + d.cols());
    }
    if (srcRow < 0 || dstRow < 0 || n < 0 || srcRow + n > s.rows() || dstRow + n > d.rows()) {
      throw new IllegalArgumentException("copyRows " + n + " rows from " + srcRow + " of " + s.rows() + " to "
          + dstRow + " of " + d.rows());
    }
    if (n == 0) {
      return;
    }
    enter();
    try {
      long row = (long) s.cols() * Float.BYTES;
      device.copyOnDevice(d.pointer() + dstRow * row, s.pointer() + srcRow * row, n * row);
    } finally {
      exit();
    }
  }

  // ---- ops -------------------------------------------------------------------------------------

  @Override
  public void embed(Weight table, int[] ids, Tensor out) {
    CudaWeight w = CudaWeight.of(table);
    CudaTensor o = CudaTensor.of(out);
    if (!w.bf16() || o.cols() != w.cols() || o.rows() < ids.length) {
      throw new IllegalArgumentException("embed " + w.name() + " into " + o.rows() + "x" + o.cols());
    }
    for (int id : ids) {
      if (id < 0 || id >= w.rows()) {
        throw new GlanceException.BadRequest("token id " + id + " outside the vocabulary of " + w.rows());
      }
    }
    if (ids.length == 0) {
      return;
    }
    enter();
    try {
      DeviceBuffer idBuf = uploadInts(ids, scratch(Scratch.IDS, 4L * ids.length));
      device.launch("embed_bf16", ids.length, 1, 1, 256,
          args().ptr(w.pointer()).ptr(idBuf.pointer()).ptr(o.pointer()).i32(w.cols()));
    } finally {
      exit();
    }
  }

  @Override
  public void linear(Tensor x, Weight weight, Weight bias, Tensor out) {
    CudaTensor in = CudaTensor.of(x);
    CudaTensor o = CudaTensor.of(out);
    CudaWeight w = CudaWeight.of(weight);
    if (in.cols() != w.cols() || o.cols() != w.rows() || o.rows() != in.rows() || !w.bf16()) {
      throw new IllegalArgumentException("linear " + w.name() + ": x " + in.rows() + "x" + in.cols()
          + ", W " + w.rows() + "x" + w.cols() + ", out " + o.rows() + "x" + o.cols());
    }
    long b = 0;
    if (bias != null) {
      CudaWeight bw = CudaWeight.of(bias);
      if (bw.bf16() || (long) bw.rows() * bw.cols() != w.rows()) {
        throw new IllegalArgumentException("bias " + bw.name() + " does not match " + w.name());
      }
      b = bw.pointer();
    }
    int n = in.rows();
    if (n == 0) {
      return;
    }
    enter();
    try {
      if (n <= GEMV_MAX_ROWS) {
        device.launch("gemv_bf16", (w.rows() + 7) / 8, 1, 1, 256,
            args().ptr(w.pointer()).ptr(in.pointer()).ptr(b).ptr(o.pointer()).i32(n).i32(w.cols()).i32(w.rows()));
      } else {
        long elements = in.elements();
        DeviceBuffer xb = scratch(Scratch.GEMM_INPUT, elements * 2);
        device.launch("f32_to_bf16", grid(elements), 1, 1, 256, args().ptr(in.pointer()).ptr(xb.pointer()).i64(elements));
        device.gemmBf16(w.pointer(), xb.pointer(), b, o.pointer(), n, w.cols(), w.rows());
      }
    } finally {
      exit();
    }
  }

  private static CudaWeight vectorOf(Weight w, int n, String op) {
    CudaWeight c = CudaWeight.of(w);
    if (c.bf16() || (long) c.rows() * c.cols() != n) {
      throw new IllegalArgumentException(op + ": weight " + c.name() + " is not a vector of " + n);
    }
    return c;
  }

  private static void sameShape(CudaTensor a, CudaTensor b, String op) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      throw new IllegalArgumentException(op + ": " + a.rows() + "x" + a.cols() + " vs " + b.rows() + "x" + b.cols());
    }
  }

  @Override
  public void rmsNorm(Tensor x, Weight weight, float eps, Tensor out) {
    CudaTensor in = CudaTensor.of(x);
    CudaTensor o = CudaTensor.of(out);
    sameShape(in, o, "rmsNorm");
    CudaWeight g = vectorOf(weight, in.cols(), "rmsNorm");
    if (in.rows() == 0) {
      return;
    }
    enter();
    try {
      device.launch("rms_norm", in.rows(), 1, 1, 256,
          args().ptr(in.pointer()).ptr(g.pointer()).ptr(o.pointer()).i32(in.cols()).f32(eps));
    } finally {
      exit();
    }
  }

  @Override
  public void layerNorm(Tensor x, Weight weight, Weight bias, float eps, Tensor out) {
    CudaTensor in = CudaTensor.of(x);
    CudaTensor o = CudaTensor.of(out);
    sameShape(in, o, "layerNorm");
    CudaWeight g = vectorOf(weight, in.cols(), "layerNorm");
    CudaWeight b = vectorOf(bias, in.cols(), "layerNorm");
    if (in.rows() == 0) {
      return;
    }
    enter();
    try {
      device.launch("layer_norm", in.rows(), 1, 1, 256,
          args().ptr(in.pointer()).ptr(g.pointer()).ptr(b.pointer()).ptr(o.pointer()).i32(in.cols()).f32(eps));
    } finally {
      exit();
    }
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    CudaTensor x = CudaTensor.of(a);
    CudaTensor y = CudaTensor.of(b);
    CudaTensor o = CudaTensor.of(out);
    if (x.elements() != y.elements() || x.elements() != o.elements()) {
      throw new IllegalArgumentException("add: sizes " + x.elements() + ", " + y.elements() + ", " + o.elements());
    }
    elementwise("add_f32", x.elements(), x.pointer(), y.pointer(), o.pointer());
  }

  private void elementwise(String kernel, long n, long p0, long p1, long p2) {
    if (n == 0) {
      return;
    }
    enter();
    try {
      device.launch(kernel, grid(n), 1, 1, 256, args().ptr(p0).ptr(p1).ptr(p2).i64(n));
    } finally {
      exit();
    }
  }

  @Override
  public void siluGlu(Tensor gateUp, Tensor out) {
    CudaTensor gu = CudaTensor.of(gateUp);
    CudaTensor o = CudaTensor.of(out);
    int half = gu.cols() / 2;
    if (gu.cols() % 2 != 0 || o.cols() != half || o.rows() < gu.rows()) {
      throw new IllegalArgumentException("siluGlu: " + gu.rows() + "x" + gu.cols() + " into " + o.rows() + "x" + o.cols());
    }
    long n = (long) gu.rows() * half;
    if (n == 0) {
      return;
    }
    enter();
    try {
      device.launch("silu_glu", grid(n), 1, 1, 256, args().ptr(gu.pointer()).ptr(o.pointer()).i32(gu.rows()).i32(half));
    } finally {
      exit();
    }
  }

  @Override
  public void siluMul(Tensor gate, Tensor up, Tensor out) {
    CudaTensor g = CudaTensor.of(gate);
    CudaTensor u = CudaTensor.of(up);
    CudaTensor o = CudaTensor.of(out);
    if (g.elements() != u.elements() || g.elements() != o.elements()) {
      throw new IllegalArgumentException("siluMul: sizes " + g.elements() + ", " + u.elements() + ", " + o.elements());
    }
    elementwise("silu_mul", g.elements(), g.pointer(), u.pointer(), o.pointer());
  }

  @Override
  public void gelu(Tensor x) {
    CudaTensor t = CudaTensor.of(x);
    if (t.elements() == 0) {
      return;
    }
    enter();
    try {
      device.launch("gelu_erf", grid(t.elements()), 1, 1, 256, args().ptr(t.pointer()).i64(t.elements()));
    } finally {
      exit();
    }
  }

  private static void checkRotary(CudaTensor t, int colOffset, int heads, int headDim, CudaTensor cos,
      CudaTensor sin, int pairs) {
    if (colOffset < 0 || colOffset + (long) heads * headDim > t.cols() || cos.rows() < t.rows()
        || sin.rows() < t.rows() || cos.cols() != sin.cols() || 2 * pairs > headDim) {
      throw new IllegalArgumentException("rotary on " + t.rows() + "x" + t.cols() + " at " + colOffset + ", "
          + heads + " heads of " + headDim + ", tables " + cos.rows() + "x" + cos.cols());
    }
  }

  @Override
  public void rotaryInterleaved(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin) {
    CudaTensor t = CudaTensor.of(x);
    CudaTensor c = CudaTensor.of(cos);
    CudaTensor s = CudaTensor.of(sin);
    int pairs = c.cols();
    checkRotary(t, colOffset, heads, headDim, c, s, pairs);
    if (t.rows() == 0) {
      return;
    }
    enter();
    try {
      device.launch("rotary_interleaved", t.rows(), 1, 1, 128, args().ptr(t.pointer()).i32(t.cols()).i32(colOffset)
          .i32(heads).i32(headDim).ptr(c.pointer()).ptr(s.pointer()).i32(pairs));
    } finally {
      exit();
    }
  }

  @Override
  public void rotaryHalf(Tensor x, int colOffset, int heads, int headDim, Tensor cos, Tensor sin) {
    CudaTensor t = CudaTensor.of(x);
    CudaTensor c = CudaTensor.of(cos);
    CudaTensor s = CudaTensor.of(sin);
    if (c.cols() != headDim / 2) {
      throw new IllegalArgumentException("rotaryHalf: tables " + c.cols() + " wide for head dim " + headDim);
    }
    checkRotary(t, colOffset, heads, headDim, c, s, headDim / 2);
    if (t.rows() == 0) {
      return;
    }
    enter();
    try {
      device.launch("rotary_half", t.rows(), 1, 1, 128, args().ptr(t.pointer()).i32(t.cols()).i32(colOffset)
          .i32(heads).i32(headDim).ptr(c.pointer()).ptr(s.pointer()));
    } finally {
      exit();
    }
  }

  private static void checkHeadDim(int headDim) {
    if (headDim < 1 || headDim > MAX_HEAD_DIM) {
      throw new GlanceException.Unsupported("attention head dim " + headDim + " (the CUDA backend supports up to "
          + MAX_HEAD_DIM + ")");
    }
  }

  @Override
  public void attentionSegments(Tensor qkv, int heads, int headDim, int[] segmentStarts, Tensor out) {
    CudaTensor in = CudaTensor.of(qkv);
    CudaTensor o = CudaTensor.of(out);
    checkHeadDim(headDim);
    int width = heads * headDim;
    int n = in.rows();
    if (in.cols() < 3 * width || o.cols() < width || o.rows() < n || segmentStarts.length < 2
        || segmentStarts[0] != 0 || segmentStarts[segmentStarts.length - 1] != n) {
      throw new IllegalArgumentException("attentionSegments: qkv " + in.rows() + "x" + in.cols() + ", "
          + heads + "x" + headDim + ", segments ending at " + segmentStarts[segmentStarts.length - 1]);
    }
    if (n == 0) {
      return;
    }
    int[] lo = new int[n];
    int[] hi = new int[n];
    for (int s = 0; s + 1 < segmentStarts.length; s++) {
      for (int r = segmentStarts[s]; r < segmentStarts[s + 1]; r++) {
        lo[r] = segmentStarts[s];
        hi[r] = segmentStarts[s + 1];
      }
    }
    float scale = (float) (1.0 / Math.sqrt(headDim));
    enter();
    try {
      DeviceBuffer loBuf = uploadInts(lo, scratch(Scratch.ROW_LO, 4L * n));
      DeviceBuffer hiBuf = uploadInts(hi, scratch(Scratch.ROW_HI, 4L * n));
      long q = in.pointer();
      device.launch("attention", n, heads, 1, 128, args().ptr(q).i32(in.cols())
          .ptr(q + (long) width * Float.BYTES).ptr(q + 2L * width * Float.BYTES).i32(in.cols())
          .ptr(o.pointer()).i32(o.cols()).ptr(loBuf.pointer()).ptr(hiBuf.pointer()).i32(0)
          .i32(heads).i32(1).i32(headDim).f32(scale).ptr(0).i32(1).i32(1 << 30));
    } finally {
      exit();
    }
  }

  @Override
  public KvCache kvCache(int layers, int kvHeads, int headDim, int capacity) {
    enter();
    try {
      long bytes = Math.max(4L, (long) capacity * kvHeads * headDim * Float.BYTES);
      DeviceBuffer[] keys = new DeviceBuffer[layers];
      DeviceBuffer[] values = new DeviceBuffer[layers];
      for (int l = 0; l < layers; l++) {
        keys[l] = pool.acquire(bytes);
        values[l] = pool.acquire(bytes);
      }
      return new CudaKvCache(keys, values, kvHeads, headDim, capacity);
    } finally {
      exit();
    }
  }

  @Override
  public void writeKv(KvCache cache, int layer, int start, Tensor k, Tensor v) {
    CudaKvCache c = (CudaKvCache) cache;
    CudaTensor kt = CudaTensor.of(k);
    CudaTensor vt = CudaTensor.of(v);
    int width = c.width();
    if (kt.cols() != width || vt.cols() != width || kt.rows() != vt.rows()) {
      throw new IllegalArgumentException("writeKv: k " + kt.rows() + "x" + kt.cols() + ", v " + vt.rows() + "x"
          + vt.cols() + ", cache width " + width);
    }
    if (start + kt.rows() > c.capacity()) {
      throw new GlanceException.BadRequest("sequence of " + (start + kt.rows())
          + " tokens exceeds the KV cache capacity " + c.capacity());
    }
    enter();
    try {
      long offset = (long) start * width * Float.BYTES;
      device.copyOnDevice(c.keys[layer].pointer() + offset, kt.pointer(), kt.bytes());
      device.copyOnDevice(c.values[layer].pointer() + offset, vt.pointer(), vt.bytes());
    } finally {
      exit();
    }
  }

  @Override
  public void attentionCausal(Tensor q, KvCache cache, int layer, int start, int heads, Tensor out) {
    CudaKvCache c = (CudaKvCache) cache;
    CudaTensor qs = CudaTensor.of(q);
    CudaTensor o = CudaTensor.of(out);
    int headDim = c.headDim;
    checkHeadDim(headDim);
    if (heads % c.kvHeads != 0 || qs.cols() < heads * headDim || o.cols() < heads * headDim || o.rows() < qs.rows()
        || start + qs.rows() > c.capacity()) {
      throw new IllegalArgumentException("attentionCausal: q " + qs.rows() + "x" + qs.cols() + ", " + heads
          + " heads over " + c.kvHeads + " KV heads, start " + start);
    }
    int n = qs.rows();
    if (n == 0) {
      return;
    }
    int group = heads / c.kvHeads;
    float scale = (float) (1.0 / Math.sqrt(headDim));
    int keys = start + n;
    int splits = n == 1 ? Math.min(MAX_SPLITS, (keys + SPLIT_KEYS - 1) / SPLIT_KEYS) : 1;
    int splitLen = splits == 1 ? 1 << 30 : (keys + splits - 1) / splits;
    enter();
    try {
      DeviceBuffer partial =
          splits == 1 ? null : scratch(Scratch.PARTIAL, (long) heads * splits * (headDim + 2) * Float.BYTES);
      device.launch("attention", n, heads, splits, 128, args().ptr(qs.pointer()).i32(qs.cols())
          .ptr(c.keys[layer].pointer()).ptr(c.values[layer].pointer()).i32(c.width())
          .ptr(o.pointer()).i32(o.cols()).ptr(0).ptr(0).i32(start)
          .i32(heads).i32(group).i32(headDim).f32(scale).ptr(partial == null ? 0 : partial.pointer())
          .i32(splits).i32(splitLen));
      if (partial != null) {
        device.launch("attention_combine", 1, heads, 1, 128,
            args().ptr(partial.pointer()).ptr(o.pointer()).i32(o.cols()).i32(heads).i32(headDim).i32(splits));
      }
    } finally {
      exit();
    }
  }

  // ---- device-side helpers beyond the Backend interface -----------------------------------------

  /** The index of each row's largest value (first among equals), computed on the device. */
  public int[] argmaxRows(Tensor logits) {
    CudaTensor t = CudaTensor.of(logits);
    int[] ids = new int[t.rows()];
    if (t.rows() == 0) {
      return ids;
    }
    enter();
    try {
      DeviceBuffer out = scratch(Scratch.RESULT, 4L * t.rows());
      device.launch("argmax_rows", t.rows(), 1, 1, 1024, args().ptr(t.pointer()).i32(t.cols()).ptr(out.pointer()));
      MemorySegment slice = staging.take(4L * t.rows());
      device.copyToHost(slice, out.pointer(), 4L * t.rows());
      device.synchronize();
      staging.drained();
      MemorySegment.copy(slice, JAVA_INT, 0, ids, 0, ids.length);
      return ids;
    } finally {
      exit();
    }
  }

  /**
   * M-RoPE cos/sin tables [n][pairs] on the device for tokens [from, from + n) of a (3 x L)
   * position array; {@code axisOf[j]} is pair j's axis (from mrope_section).
   */
  public void mropeTables(int[][] positions, int from, int n, float[] invFreq, int[] axisOf, Tensor cos, Tensor sin) {
    int length = positions[0].length;
    int pairs = invFreq.length;
    CudaTensor c = CudaTensor.of(cos);
    CudaTensor s = CudaTensor.of(sin);
    if (c.elements() < (long) n * pairs || s.elements() < (long) n * pairs || from + n > length) {
      throw new IllegalArgumentException("mropeTables: " + n + "x" + pairs + " into " + c.rows() + "x" + c.cols());
    }
    int[] flat = new int[3 * length];
    for (int a = 0; a < 3; a++) {
      System.arraycopy(positions[a], 0, flat, a * length, length);
    }
    enter();
    try {
      DeviceBuffer pos = uploadInts(flat);
      DeviceBuffer inv = uploadFloats(invFreq);
      DeviceBuffer axes = uploadInts(axisOf);
      device.launch("mrope_tables", grid((long) n * pairs), 1, 1, 256, args().ptr(pos.pointer()).i32(length)
          .i32(from).i32(n).ptr(inv.pointer()).ptr(axes.pointer()).i32(pairs).ptr(c.pointer()).ptr(s.pointer()));
    } finally {
      exit();
    }
  }

  /** Vision 2-D rotary tables [n][2q] on the device from each patch's row and column. */
  public void visionRopeTables(int[] rowOf, int[] colOf, float[] invFreq, Tensor cos, Tensor sin) {
    int n = rowOf.length;
    int q = invFreq.length;
    CudaTensor c = CudaTensor.of(cos);
    CudaTensor s = CudaTensor.of(sin);
    if (colOf.length != n || c.elements() < 2L * n * q || s.elements() < 2L * n * q) {
      throw new IllegalArgumentException("visionRopeTables: " + n + " patches into " + c.rows() + "x" + c.cols());
    }
    enter();
    try {
      DeviceBuffer ph = uploadInts(rowOf);
      DeviceBuffer pw = uploadInts(colOf);
      DeviceBuffer inv = uploadFloats(invFreq);
      device.launch("vision_rope_tables", grid((long) n * q), 1, 1, 256, args().ptr(ph.pointer()).ptr(pw.pointer())
          .i32(n).ptr(inv.pointer()).i32(q).ptr(c.pointer()).ptr(s.pointer()));
    } finally {
      exit();
    }
  }

  /**
   * The vision position table [side*side][dim] resampled (bicubic, A = -0.75, border) to each
   * patch (row h, column w of a gh x gw grid) into out [patches][dim], on the device.
   */
  public void positionEmbedding(Tensor table, int side, int[] h, int[] w, int[] gh, int[] gw, Tensor out) {
    CudaTensor t = CudaTensor.of(table);
    CudaTensor o = CudaTensor.of(out);
    int n = h.length;
    if (t.rows() != side * side || o.cols() != t.cols() || o.rows() < n || w.length != n || gh.length != n
        || gw.length != n) {
      throw new IllegalArgumentException("positionEmbedding: table " + t.rows() + "x" + t.cols() + ", " + n + " patches");
    }
    if (n == 0) {
      return;
    }
    enter();
    try {
      DeviceBuffer b0 = uploadInts(h);
      DeviceBuffer b1 = uploadInts(w);
      DeviceBuffer b2 = uploadInts(gh);
      DeviceBuffer b3 = uploadInts(gw);
      device.launch("pos_embed_bicubic", n, 1, 1, 256, args().ptr(t.pointer()).i32(side).i32(t.cols())
          .ptr(b0.pointer()).ptr(b1.pointer()).ptr(b2.pointer()).ptr(b3.pointer()).ptr(o.pointer()));
    } finally {
      exit();
    }
  }

  /**
   * A [rows][cols] bf16 weight filled on the device with uniform values in [-scale, scale) from
   * {@code seed}: for benchmarks of real shapes without a checkpoint to upload.
   */
  public Weight randomMatrix(String name, int rows, int cols, long seed, float scale) {
    enter();
    try {
      long n = (long) rows * cols;
      long ptr = device.malloc(Math.max(256, n * 2));
      weightPointers.add(ptr);
      weightBytes += n * 2;
      device.launch("fill_uniform_bf16", grid(n), 1, 1, 256, args().ptr(ptr).i64(n).i64(seed).f32(scale));
      return new CudaWeight(name, rows, cols, true, ptr, n * 2);
    } finally {
      exit();
    }
  }

  /**
   * Overwrites every bf16 matrix loaded so far with uniform values in [-scale, scale), made on the
   * device (matrix i from seed + i): benchmarks load a checkpoint of the right shape whose
   * matrices are empty, then fill them here instead of uploading gigabytes of random numbers.
   */
  public void randomizeMatrices(long seed, float scale) {
    enter();
    try {
      for (int i = 0; i < matrices.size(); i++) {
        CudaWeight w = matrices.get(i);
        long n = (long) w.rows() * w.cols();
        device.launch("fill_uniform_bf16", grid(n), 1, 1, 256, args().ptr(w.pointer()).i64(n).i64(seed + i).f32(scale));
      }
    } finally {
      exit();
    }
  }

  private DeviceBuffer uploadFloats(float[] values) {
    DeviceBuffer b = pool.acquire(Math.max(4L, (long) values.length * 4));
    MemorySegment slice = staging.take(Math.max(4L, (long) values.length * 4));
    MemorySegment.copy(values, 0, slice, F32, 0, values.length);
    device.copyToDevice(b.pointer(), slice, (long) values.length * 4);
    return b;
  }

  /** Waits for all queued work (for timing). */
  public void synchronize() {
    enter();
    try {
      device.synchronize();
      staging.drained();
    } finally {
      exit();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      device.bind();
      device.synchronize();
      for (long p : weightPointers) {
        device.free(p);
      }
      weightPointers.clear();
      pool.releaseCached();
      staging.close();
      closed = true;
      arena.close();
      device.close();
    } finally {
      lock.unlock();
    }
  }
}
