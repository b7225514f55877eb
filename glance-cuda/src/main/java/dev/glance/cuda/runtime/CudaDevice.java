package dev.glance.cuda.runtime;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.glance.cuda.ffm.CuDriver;
import dev.glance.cuda.ffm.CublasLt;
import dev.glance.cuda.ffm.CudaException;
import dev.glance.cuda.ffm.HeuristicResult;
import dev.glance.cuda.ffm.KernelArgs;
import dev.glance.cuda.ffm.LibraryLoad;
import dev.glance.cuda.ffm.LibraryLocator;
import dev.glance.cuda.ffm.NativeFunctions;
import dev.glance.cuda.ffm.Nvrtc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real GPU: the device's primary context, one non-blocking stream, a cuBLASLt handle with a
 * workspace, and Glance's kernels compiled by NVRTC for this card's architecture when the device
 * opens. GEMM plans (descriptors, layouts and the heuristic's algorithm) are made once per shape
 * and reused. Not thread-safe: the backend serialises all use.
 */
public final class CudaDevice implements Device {
  /** cuBLASLt's recommended workspace for Hopper. */
  private static final long WORKSPACE_BYTES = 32L << 20;

  private final Arena arena;
  private final CuDriver driver;
  private final CublasLt lt;
  private final DeviceInfo info;
  private final int device;
  private final MemorySegment context;
  private final MemorySegment stream;
  private final MemorySegment ltHandle;
  private final long workspace;
  private final MemorySegment one;
  private final MemorySegment zero;
  private final List<MemorySegment> modules = new ArrayList<>();
  private final Map<String, MemorySegment> functions = new HashMap<>();
  private final Map<GemmKey, GemmPlan> plans = new HashMap<>();
  private final MemorySegment preference;
  private final String compiledWith;
  private boolean closed;

  private record GemmKey(int n, int in, int outF, boolean bias) {}

  private record GemmPlan(MemorySegment desc, MemorySegment a, MemorySegment b, MemorySegment d,
      MemorySegment algo, boolean epilogueBias) {}

  private CudaDevice(Arena arena, CuDriver driver, CublasLt lt, Nvrtc nvrtc, int ordinal) {
    this.arena = arena;
    this.driver = driver;
    this.lt = lt;
    this.device = driver.device(ordinal);
    this.info = new DeviceInfo(ordinal, driver.deviceName(device),
        driver.attribute(device, CuDriver.ATTR_COMPUTE_CAPABILITY_MAJOR),
        driver.attribute(device, CuDriver.ATTR_COMPUTE_CAPABILITY_MINOR),
        driver.attribute(device, CuDriver.ATTR_MULTIPROCESSOR_COUNT), driver.totalMemory(device),
        driver.driverVersion());
    this.context = driver.primaryContextRetain(device);
    driver.setCurrent(context);
    this.stream = driver.streamCreate();
    this.ltHandle = lt.create();
    this.workspace = driver.malloc(WORKSPACE_BYTES);
    this.preference = lt.preference(WORKSPACE_BYTES);
    this.one = arena.allocateFrom(JAVA_FLOAT, 1f);
    this.zero = arena.allocateFrom(JAVA_FLOAT, 0f);
    int[] v = nvrtc.version();
    this.compiledWith = "NVRTC " + v[0] + "." + v[1];
    loadKernels(nvrtc);
  }

  /**
   * Opens GPU {@code ordinal}: loads the driver, cuBLASLt and NVRTC from {@code locator}'s
   * places, initialises the driver, and compiles the kernels. Missing libraries or devices give
   * {@link CudaAvailability.Unavailable} with the reason; a failure after that (a kernel that
   * does not compile, a driver error) is a bug and throws.
   */
  public static CudaAvailability open(int ordinal, LibraryLocator locator) {
    Arena arena = Arena.ofShared();
    try {
      LibraryLoad driverLib = locator.open("CUDA driver", LibraryLocator.DRIVER, arena);
      if (driverLib instanceof LibraryLoad.Missing m) {
        arena.close();
        return new CudaAvailability.Unavailable(m.describe() + "; is the NVIDIA driver installed?");
      }
      CuDriver driver = new CuDriver((LibraryLoad.Loaded) driverLib);
      try {
        driver.init();
      } catch (CudaException e) {
        arena.close();
        return new CudaAvailability.Unavailable("the CUDA driver did not initialise: " + e.getMessage());
      }
      int count = driver.deviceCount();
      if (ordinal < 0 || ordinal >= count) {
        arena.close();
        return new CudaAvailability.Unavailable("no CUDA device " + ordinal + " (this machine has " + count + ")");
      }
      LibraryLoad ltLib = locator.open("cuBLASLt", LibraryLocator.CUBLAS_LT, arena);
      if (ltLib instanceof LibraryLoad.Missing m) {
        arena.close();
        return new CudaAvailability.Unavailable(m.describe() + "; set GLANCE_CUDA_LIB_PATH to its directory");
      }
      LibraryLoad nvrtcLib = locator.open("NVRTC", LibraryLocator.NVRTC, LibraryLocator.NVRTC_COMPANIONS, arena);
      if (nvrtcLib instanceof LibraryLoad.Missing m) {
        arena.close();
        return new CudaAvailability.Unavailable(m.describe() + "; set GLANCE_CUDA_LIB_PATH to its directory");
      }
      CublasLt lt = new CublasLt((LibraryLoad.Loaded) ltLib);
      Nvrtc nvrtc = new Nvrtc((LibraryLoad.Loaded) nvrtcLib);
      return new CudaAvailability.Available(new CudaDevice(arena, driver, lt, nvrtc, ordinal));
    } catch (NativeFunctions.MissingSymbolException e) {
      arena.close();
      return new CudaAvailability.Unavailable(e.getMessage());
    } catch (RuntimeException | Error e) {
      arena.close();
      throw e;
    }
  }

  private void loadKernels(Nvrtc nvrtc) {
    Map<String, String> headers = KernelSources.headers();
    for (String file : KernelSources.FILES) {
      String source = KernelSources.read(file);
      Nvrtc.Image image = compile(nvrtc, source, file, headers);
      MemorySegment data;
      if (image.ptx()) {
        data = arena.allocate(image.bytes().length + 1L);
        MemorySegment.copy(image.bytes(), 0, data, ValueLayout.JAVA_BYTE, 0, image.bytes().length);
      } else {
        data = arena.allocateFrom(ValueLayout.JAVA_BYTE, image.bytes());
      }
      MemorySegment module = driver.moduleLoadData(data);
      modules.add(module);
      for (String name : KernelSources.kernelNames(source)) {
        functions.put(name, driver.moduleFunction(module, name));
      }
    }
  }

  /** CUBIN for this card; PTX for its virtual architecture when this NVRTC does not know the card. */
  private Nvrtc.Image compile(Nvrtc nvrtc, String source, String file, Map<String, String> headers) {
    List<String> common = List.of("-std=c++17", "-lineinfo", "-DGLANCE_NVRTC=1");
    List<String> real = new ArrayList<>(common);
    real.add("--gpu-architecture=" + info.arch());
    try {
      return nvrtc.compile(source, file, headers, real);
    } catch (CudaException e) {
      if (!e.errorName().contains("INVALID_OPTION")) {
        throw e;
      }
      List<String> virtual = new ArrayList<>(common);
      virtual.add("--gpu-architecture=compute_" + info.major() + info.minor());
      return nvrtc.compile(source, file, headers, virtual);
    }
  }

  public String compiler() {
    return compiledWith;
  }

  public CuDriver driver() {
    return driver;
  }

  @Override
  public DeviceInfo info() {
    return info;
  }

  @Override
  public void bind() {
    driver.setCurrent(context);
  }

  /** Free and total device memory, bytes. */
  public long[] memoryInfo() {
    return driver.memoryInfo();
  }

  @Override
  public long malloc(long bytes) {
    return driver.malloc(bytes);
  }

  @Override
  public void free(long pointer) {
    driver.free(pointer);
  }

  @Override
  public MemorySegment mallocHost(long bytes) {
    return driver.mallocHost(bytes);
  }

  @Override
  public void freeHost(MemorySegment host) {
    driver.freeHost(host);
  }

  @Override
  public void copyToDevice(long dst, MemorySegment src, long bytes) {
    driver.copyHtoDAsync(dst, src, bytes, stream);
  }

  @Override
  public void copyToHost(MemorySegment dst, long src, long bytes) {
    driver.copyDtoHAsync(dst, src, bytes, stream);
  }

  @Override
  public void copyOnDevice(long dst, long src, long bytes) {
    driver.copyDtoDAsync(dst, src, bytes, stream);
  }

  @Override
  public void zero(long pointer, long bytes) {
    driver.memsetAsync(pointer, (byte) 0, bytes, stream);
  }

  @Override
  public void launch(String name, int gridX, int gridY, int gridZ, int block, KernelArgs args) {
    MemorySegment f = functions.get(name);
    if (f == null) {
      throw new IllegalArgumentException("no kernel " + name);
    }
    driver.launch(name, f, gridX, gridY, gridZ, block, 1, 1, 0, stream, args.pointers());
  }

  @Override
  public void gemmBf16(long w, long x, long bias, long out, int n, int in, int outF) {
    GemmPlan plan = plans.computeIfAbsent(new GemmKey(n, in, outF, bias != 0), k -> plan(k, bias));
    if (plan.epilogueBias()) {
      lt.setDescPointer(plan.desc(), CublasLt.DESC_BIAS_POINTER, bias);
    }
    lt.matmul(ltHandle, plan.desc(), one, w, plan.a(), x, plan.b(), zero, out, plan.d(), out, plan.d(), plan.algo(),
        workspace, WORKSPACE_BYTES, stream);
    if (bias != 0 && !plan.epilogueBias()) {
      try (Arena a = Arena.ofConfined()) {
        long total = (long) n * outF;
        launch("add_bias_rows", grid(total), 1, 1, 256, new KernelArgs(a).ptr(out).ptr(bias).i32(n).i32(outF));
      }
    }
  }

  /** Blocks for a grid-stride kernel over {@code n} elements, 256 threads each. */
  static int grid(long n) {
    return (int) Math.max(1, Math.min((n + 255) / 256, 8192));
  }

  /**
   * Column-major view of the row-major problem: D (outF x n, ld outF) = A^T B with A = W stored
   * as in x outF (ld in) and B = x stored as in x n (ld in): the "TN" GEMM. The bias epilogue
   * adds bias[row of D] = bias[output feature]; when no algorithm supports it, a kernel adds it.
   */
  private GemmPlan plan(GemmKey k, long bias) {
    MemorySegment a = lt.layout(CublasLt.CUDA_R_16BF, k.in(), k.outF(), k.in());
    MemorySegment b = lt.layout(CublasLt.CUDA_R_16BF, k.in(), k.n(), k.in());
    MemorySegment d = lt.layout(CublasLt.CUDA_R_32F, k.outF(), k.n(), k.outF());
    if (k.bias()) {
      MemorySegment desc = descriptor();
      lt.setDescInt(desc, CublasLt.DESC_EPILOGUE, CublasLt.EPILOGUE_BIAS);
      lt.setDescPointer(desc, CublasLt.DESC_BIAS_POINTER, bias);
      MemorySegment algo = lt.bestAlgorithm(ltHandle, desc, a, b, d, d, preference, arena);
      if (algo != null) {
        return new GemmPlan(desc, a, b, d, HeuristicResult.algo(algo), true);
      }
      lt.destroyMatmulDesc(desc);
    }
    MemorySegment desc = descriptor();
    MemorySegment algo = lt.bestAlgorithm(ltHandle, desc, a, b, d, d, preference, arena);
    if (algo == null) {
      throw new CudaException("cublasLtMatmulAlgoGetHeuristic(bf16 " + k + ")", CublasLt.STATUS_NOT_SUPPORTED,
          CublasLt.statusName(CublasLt.STATUS_NOT_SUPPORTED), "no algorithm");
    }
    return new GemmPlan(desc, a, b, d, HeuristicResult.algo(algo), false);
  }

  private MemorySegment descriptor() {
    MemorySegment desc = lt.matmulDesc(CublasLt.COMPUTE_32F, CublasLt.CUDA_R_32F);
    lt.setDescInt(desc, CublasLt.DESC_TRANSA, CublasLt.OP_T);
    lt.setDescInt(desc, CublasLt.DESC_TRANSB, CublasLt.OP_N);
    return desc;
  }

  @Override
  public void synchronize() {
    driver.streamSynchronize(stream);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    bind();
    synchronize();
    for (GemmPlan p : plans.values()) {
      lt.destroyMatmulDesc(p.desc());
      lt.destroyLayout(p.a());
      lt.destroyLayout(p.b());
      lt.destroyLayout(p.d());
    }
    plans.clear();
    lt.destroyPreference(preference);
    lt.destroy(ltHandle);
    driver.free(workspace);
    for (MemorySegment m : modules) {
      driver.moduleUnload(m);
    }
    driver.streamDestroy(stream);
    driver.primaryContextRelease(device);
    arena.close();
  }
}
