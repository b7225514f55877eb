package dev.glance.jmh;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU kernels on the mid shape's sizes (text hidden 2048, MLP 6848): a linear layer per
 * weight format for one token (decode: bandwidth-bound) and for 128 tokens (prefill:
 * arithmetic-bound), causal attention over a 512-token cache, and the fused norm and SwiGLU.
 * Divide bytes or FLOPs by the reported time to get GB/s or GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class KernelBench {
  @Param({"bf16", "q8_0", "q4_0", "f32"})
  public String format;

  @Param({"1", "128"})
  public int tokens;

  @Param({"2"})
  public int threads;

  /** Output features: the mid shape's gate_up projection (2 x 6848) over its hidden size. */
  static final int OUT = 13696;
  static final int IN = 2048;

  CpuBackend backend;
  Arena arena;
  Weight weight;
  Tensor x;
  Tensor out;
  KvCache cache;
  Tensor q;
  Tensor attnOut;
  Weight norm;
  Tensor gateUp;
  Tensor act;
  Tensor residual;
  Tensor y;

  @Setup(Level.Trial)
  public void setUp() {
    backend = new CpuBackend(threads);
    arena = Arena.ofShared();
    SplittableRandom rnd = new SplittableRandom(1);
    MemorySegment seg = arena.allocate((long) OUT * IN * 2, 64);
    var le16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < (long) OUT * IN; i++) {
      seg.setAtIndex(le16, i, (short) (Float.floatToRawIntBits((float) (rnd.nextDouble() - 0.5) * 0.04f) >>> 16));
    }
    DType f = DType.parse(format, "format", DType.BF16, DType.Q8_0, DType.Q4_0, DType.F32);
    TensorData bf16 = new TensorData("w", DType.BF16, new long[] {OUT, IN}, seg);
    if (f == DType.F32) {
      MemorySegment f32 = arena.allocate((long) OUT * IN * 4, 64);
      for (long i = 0; i < (long) OUT * IN; i++) {
        f32.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, bf16.getFloat(i));
      }
      weight = backend.matrix(new TensorData("w", DType.F32, new long[] {OUT, IN}, f32), OUT, IN);
    } else {
      weight = backend.matrix(bf16, OUT, IN, f);
    }
    x = backend.upload(random(rnd, tokens * IN), tokens, IN);
    out = backend.allocate(tokens, OUT);

    int heads = 16;
    int kvHeads = 2;
    int hd = 128;
    int context = 512;
    cache = backend.kvCache(1, kvHeads, hd, context + tokens);
    backend.writeKv(cache, 0, 0, backend.upload(random(rnd, context * kvHeads * hd), context, kvHeads * hd),
        backend.upload(random(rnd, context * kvHeads * hd), context, kvHeads * hd));
    q = backend.upload(random(rnd, tokens * heads * hd), tokens, heads * hd);
    attnOut = backend.allocate(tokens, heads * hd);

    MemorySegment ones = arena.allocate(IN * 4L, 64);
    for (int i = 0; i < IN; i++) {
      ones.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
    }
    norm = backend.vector(new TensorData("norm", DType.F32, new long[] {IN}, ones));
    gateUp = backend.upload(random(rnd, tokens * OUT), tokens, OUT);
    act = backend.allocate(tokens, OUT / 2);
    residual = backend.upload(random(rnd, tokens * IN), tokens, IN);
    y = backend.upload(random(rnd, tokens * IN), tokens, IN);
  }

  private static float[] random(SplittableRandom rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return v;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
    arena.close();
  }

  /** tokens x 2048 by 13696 x 2048: 28 M weights, 56 MB in BF16. */
  @Benchmark
  public Tensor linear() {
    backend.linear(x, weight, null, out);
    return out;
  }

  /** Grouped-query attention of {@code tokens} new positions over a 512-position F32 cache. */
  @Benchmark
  public Tensor attention() {
    backend.attentionCausal(q, cache, 0, 512, 16, attnOut);
    return attnOut;
  }

  /** SwiGLU over tokens x 6848. */
  @Benchmark
  public Tensor siluGlu() {
    backend.siluGlu(gateUp, act);
    return act;
  }

  /** The fused residual step: residual += rmsNorm(y) * w, tokens x 2048. */
  @Benchmark
  public Tensor addRmsNorm() {
    backend.addRmsNorm(residual, y, norm, 1e-5f);
    return residual;
  }
}
