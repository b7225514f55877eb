package dev.glance.jmh;

import dev.glance.engine.tensor.DType;
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
 * The decode kernel (one token's row-by-vector products) on one thread, at sizes that sit in L2,
 * in L3 and in DRAM: if a format is barely faster from cache than from DRAM, its instruction
 * stream, not memory, bounds it. Divide rows x cols by the time for weights per ns.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// Long warm-up: until C2 compiles a kernel, the Vector API runs interpreted (and allocating),
// hundreds of times slower, and the four-row kernels reach the compile thresholds only after
// ~10 s of that (seen with -jvmArgsAppend -XX:+PrintCompilation).
@Warmup(iterations = 8, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class DecodeKernelBench {
  @Param({"bf16", "q8_0", "q4_0"})
  public String format;

  /** rows x cols: L2-resident (64 x 4096), L3-resident (1024 x 4096), DRAM-sized (16384 x 4096). */
  @Param({"64x4096", "1024x4096", "16384x4096"})
  public String size;

  @Param({"1"})
  public int threads;

  CpuBackend backend;
  Arena arena;
  Weight weight;
  Tensor x;
  Tensor out;

  @Setup(Level.Trial)
  public void setUp() {
    String[] rc = size.split("x");
    int rows = Integer.parseInt(rc[0]);
    int cols = Integer.parseInt(rc[1]);
    backend = new CpuBackend(threads);
    arena = Arena.ofShared();
    SplittableRandom rnd = new SplittableRandom(1);
    MemorySegment seg = arena.allocate((long) rows * cols * 2, 64);
    var le16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < (long) rows * cols; i++) {
      seg.setAtIndex(le16, i, (short) (Float.floatToRawIntBits((float) (rnd.nextDouble() - 0.5) * 0.04f) >>> 16));
    }
    DType f = DType.parse(format, "format", DType.BF16, DType.Q8_0, DType.Q4_0);
    weight = backend.matrix(new TensorData("w", DType.BF16, new long[] {rows, cols}, seg), rows, cols, f);
    float[] v = new float[cols];
    for (int i = 0; i < cols; i++) {
      v[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    x = backend.upload(v, 1, cols);
    out = backend.allocate(1, rows);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
    arena.close();
  }

  @Benchmark
  public Tensor decode() {
    backend.linear(x, weight, null, out);
    return out;
  }
}
