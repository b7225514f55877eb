package dev.glance.cuda.emu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.glance.cuda.ffm.KernelArgs;
import dev.glance.cuda.runtime.Device;
import dev.glance.cuda.runtime.DeviceInfo;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link Device} on the CPU: "device memory" is malloc'd host memory, copies are immediate,
 * kernels run in the {@link KernelEmulator}, and the bf16 GEMM is a plain loop with the same
 * contract as the cuBLASLt call (bf16 operands, float32 accumulation and output, optional bias).
 * It counts launches per kernel so tests can tell which path an op took.
 */
public final class EmulatedDevice implements Device {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final MethodHandle ALIGNED_ALLOC = LINKER.downcallHandle(
      LINKER.defaultLookup().find("aligned_alloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle FREE = LINKER.downcallHandle(
      LINKER.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));

  private final KernelEmulator emulator = KernelEmulator.get();
  private final Map<String, Integer> launches = new TreeMap<>();
  private int gemms;
  private long live;

  @Override
  public DeviceInfo info() {
    return new DeviceInfo(0, "emulated on the CPU", 9, 0, 1, 1L << 32, 13000);
  }

  @Override
  public void bind() {}

  private static MemorySegment at(long address, long bytes) {
    return MemorySegment.ofAddress(address).reinterpret(bytes);
  }

  @Override
  public long malloc(long bytes) {
    long size = (bytes + 255) / 256 * 256;
    try {
      MemorySegment p = (MemorySegment) ALIGNED_ALLOC.invokeExact(256L, size);
      if (p.equals(MemorySegment.NULL)) {
        throw new OutOfMemoryError("emulated device: " + bytes + " bytes");
      }
      live += size;
      return p.address();
    } catch (Throwable t) {
      throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }
  }

  @Override
  public void free(long pointer) {
    try {
      FREE.invokeExact(MemorySegment.ofAddress(pointer));
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @Override
  public MemorySegment mallocHost(long bytes) {
    return at(malloc(bytes), bytes);
  }

  @Override
  public void freeHost(MemorySegment host) {
    free(host.address());
  }

  @Override
  public void copyToDevice(long dst, MemorySegment src, long bytes) {
    MemorySegment.copy(src, 0, at(dst, bytes), 0, bytes);
  }

  @Override
  public void copyToHost(MemorySegment dst, long src, long bytes) {
    MemorySegment.copy(at(src, bytes), 0, dst, 0, bytes);
  }

  @Override
  public void copyOnDevice(long dst, long src, long bytes) {
    MemorySegment.copy(at(src, bytes), 0, at(dst, bytes), 0, bytes);
  }

  @Override
  public void zero(long pointer, long bytes) {
    at(pointer, bytes).fill((byte) 0);
  }

  @Override
  public void launch(String name, int gridX, int gridY, int gridZ, int block, KernelArgs args) {
    launches.merge(name, 1, Integer::sum);
    emulator.launch(name, gridX, gridY, gridZ, block, args.pointers());
  }

  @Override
  public void gemmBf16(long w, long x, long bias, long out, int n, int in, int outF) {
    gemms++;
    MemorySegment ws = at(w, 2L * outF * in);
    MemorySegment xs = at(x, 2L * n * in);
    MemorySegment os = at(out, 4L * n * outF);
    MemorySegment bs = bias == 0 ? null : at(bias, 4L * outF);
    float[] xr = new float[in];
    for (int t = 0; t < n; t++) {
      for (int k = 0; k < in; k++) {
        xr[k] = bf(xs.getAtIndex(JAVA_SHORT, (long) t * in + k));
      }
      for (int o = 0; o < outF; o++) {
        float acc = 0;
        long base = (long) o * in;
        for (int k = 0; k < in; k++) {
          acc += bf(ws.getAtIndex(JAVA_SHORT, base + k)) * xr[k];
        }
        if (bs != null) {
          acc += bs.getAtIndex(JAVA_FLOAT, o);
        }
        os.setAtIndex(JAVA_FLOAT, (long) t * outF + o, acc);
      }
    }
  }

  private static float bf(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  @Override
  public void synchronize() {}

  /** Launches so far, per kernel. */
  public Map<String, Integer> launches() {
    return launches;
  }

  public int gemms() {
    return gemms;
  }

  @Override
  public void close() {}
}
