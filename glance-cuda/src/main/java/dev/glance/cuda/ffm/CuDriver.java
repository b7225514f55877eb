package dev.glance.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API functions Glance uses, bound through FFM to libcuda.so.1 with their
 * versioned names (cuMemAlloc_v2 and friends, as cuda.h maps them in CUDA 12 and 13). Every call
 * checks its CUresult and throws a {@link CudaException} naming the call and the error.
 * Contexts are the device's primary context, which exists in every driver version (cuCtxCreate
 * changed its signature in CUDA 13).
 */
public final class CuDriver {
  /** cuDeviceGetAttribute codes. */
  public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
  public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
  public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;

  private final NativeFunctions lib;
  private final MethodHandle cuInit;
  private final MethodHandle cuDriverGetVersion;
  private final MethodHandle cuGetErrorName;
  private final MethodHandle cuDeviceGetCount;
  private final MethodHandle cuDeviceGet;
  private final MethodHandle cuDeviceGetName;
  private final MethodHandle cuDeviceGetAttribute;
  private final MethodHandle cuDeviceTotalMem;
  private final MethodHandle cuDevicePrimaryCtxRetain;
  private final MethodHandle cuDevicePrimaryCtxRelease;
  private final MethodHandle cuCtxSetCurrent;
  private final MethodHandle cuMemAlloc;
  private final MethodHandle cuMemFree;
  private final MethodHandle cuMemAllocHost;
  private final MethodHandle cuMemFreeHost;
  private final MethodHandle cuMemGetInfo;
  private final MethodHandle cuMemcpyHtoDAsync;
  private final MethodHandle cuMemcpyDtoHAsync;
  private final MethodHandle cuMemcpyDtoDAsync;
  private final MethodHandle cuMemsetD8Async;
  private final MethodHandle cuModuleLoadData;
  private final MethodHandle cuModuleGetFunction;
  private final MethodHandle cuModuleUnload;
  private final MethodHandle cuLaunchKernel;
  private final MethodHandle cuStreamCreate;
  private final MethodHandle cuStreamSynchronize;
  private final MethodHandle cuStreamDestroy;

  public CuDriver(LibraryLoad.Loaded library) {
    this.lib = new NativeFunctions(library);
    cuInit = lib.bind("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    cuDriverGetVersion = lib.bind("cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuGetErrorName = lib.bind("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    cuDeviceGetCount = lib.bind("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuDeviceGet = lib.bind("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    cuDeviceGetName = lib.bind("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    cuDeviceGetAttribute = lib.bind("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    cuDeviceTotalMem = lib.bind("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    cuDevicePrimaryCtxRetain = lib.bind("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    cuDevicePrimaryCtxRelease = lib.bind("cuDevicePrimaryCtxRelease_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    cuCtxSetCurrent = lib.bind("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuMemAlloc = lib.bind("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    cuMemFree = lib.bind("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    cuMemAllocHost = lib.bind("cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    cuMemFreeHost = lib.bind("cuMemFreeHost", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuMemGetInfo = lib.bind("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    cuMemcpyHtoDAsync = lib.bind("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    cuMemcpyDtoHAsync = lib.bind("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    cuMemcpyDtoDAsync = lib.bind("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    cuMemsetD8Async = lib.bind("cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
    cuModuleLoadData = lib.bind("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    cuModuleGetFunction = lib.bind("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    cuModuleUnload = lib.bind("cuModuleUnload", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuLaunchKernel = lib.bind("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    cuStreamCreate = lib.bind("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    cuStreamSynchronize = lib.bind("cuStreamSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    cuStreamDestroy = lib.bind("cuStreamDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  }

  public LibraryLoad.Loaded library() {
    return lib.library();
  }

  /** Throws a CudaException for a non-zero CUresult, with the driver's name for it. */
  public void check(String call, int rc) {
    if (rc != CuResult.SUCCESS) {
      throw new CudaException(call, rc, errorName(rc), null);
    }
  }

  /** The driver's name for a CUresult, or the built-in table's when the driver does not know it. */
  public String errorName(int rc) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      int r = (int) cuGetErrorName.invokeExact(rc, p);
      if (r == 0) {
        MemorySegment s = p.get(ADDRESS, 0);
        if (!s.equals(MemorySegment.NULL)) {
          return s.reinterpret(256).getString(0);
        }
      }
    } catch (Throwable t) {
      // fall through to the table
    }
    return CuResult.name(rc);
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }

  public void init() {
    try {
      check("cuInit", (int) cuInit.invokeExact(0));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public int driverVersion() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(JAVA_INT);
      check("cuDriverGetVersion", (int) cuDriverGetVersion.invokeExact(v));
      return v.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public int deviceCount() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(JAVA_INT);
      check("cuDeviceGetCount", (int) cuDeviceGetCount.invokeExact(v));
      return v.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public int device(int ordinal) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(JAVA_INT);
      check("cuDeviceGet(" + ordinal + ")", (int) cuDeviceGet.invokeExact(v, ordinal));
      return v.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public String deviceName(int device) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(256);
      check("cuDeviceGetName", (int) cuDeviceGetName.invokeExact(buf, 256, device));
      return buf.getString(0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public int attribute(int device, int attribute) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(JAVA_INT);
      check("cuDeviceGetAttribute(" + attribute + ")", (int) cuDeviceGetAttribute.invokeExact(v, attribute, device));
      return v.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public long totalMemory(int device) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(JAVA_LONG);
      check("cuDeviceTotalMem_v2", (int) cuDeviceTotalMem.invokeExact(v, device));
      return v.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** free and total device memory of the current context's device, in bytes. */
  public long[] memoryInfo() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment free = a.allocate(JAVA_LONG);
      MemorySegment total = a.allocate(JAVA_LONG);
      check("cuMemGetInfo_v2", (int) cuMemGetInfo.invokeExact(free, total));
      return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public MemorySegment primaryContextRetain(int device) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(ADDRESS);
      check("cuDevicePrimaryCtxRetain", (int) cuDevicePrimaryCtxRetain.invokeExact(v, device));
      return v.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void primaryContextRelease(int device) {
    try {
      check("cuDevicePrimaryCtxRelease_v2", (int) cuDevicePrimaryCtxRelease.invokeExact(device));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void setCurrent(MemorySegment context) {
    try {
      check("cuCtxSetCurrent", (int) cuCtxSetCurrent.invokeExact(context));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public long malloc(long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(JAVA_LONG);
      int rc = (int) cuMemAlloc.invokeExact(v, bytes);
      if (rc != 0) {
        throw new CudaException("cuMemAlloc_v2(" + bytes + " bytes)", rc, errorName(rc), null);
      }
      return v.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void free(long ptr) {
    try {
      check("cuMemFree_v2", (int) cuMemFree.invokeExact(ptr));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Page-locked host memory of {@code bytes}, for asynchronous copies. */
  public MemorySegment mallocHost(long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(ADDRESS);
      check("cuMemAllocHost_v2(" + bytes + " bytes)", (int) cuMemAllocHost.invokeExact(v, bytes));
      return v.get(ADDRESS, 0).reinterpret(bytes);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void freeHost(MemorySegment p) {
    try {
      check("cuMemFreeHost", (int) cuMemFreeHost.invokeExact(p));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void copyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
    try {
      check("cuMemcpyHtoDAsync_v2", (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void copyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
    try {
      check("cuMemcpyDtoHAsync_v2", (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void copyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
    try {
      check("cuMemcpyDtoDAsync_v2", (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void memsetAsync(long dst, byte value, long bytes, MemorySegment stream) {
    try {
      check("cuMemsetD8Async", (int) cuMemsetD8Async.invokeExact(dst, value, bytes, stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Loads a CUBIN or PTX image (NUL-terminated for PTX) into the current context. */
  public MemorySegment moduleLoadData(MemorySegment image) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(ADDRESS);
      check("cuModuleLoadData", (int) cuModuleLoadData.invokeExact(v, image));
      return v.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public MemorySegment moduleFunction(MemorySegment module, String name) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(ADDRESS);
      check("cuModuleGetFunction(" + name + ")", (int) cuModuleGetFunction.invokeExact(v, module, a.allocateFrom(name)));
      return v.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void moduleUnload(MemorySegment module) {
    try {
      check("cuModuleUnload", (int) cuModuleUnload.invokeExact(module));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Queues a kernel; {@code params} is the void*[] that {@link KernelArgs} builds. */
  public void launch(String name, MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz,
      int sharedBytes, MemorySegment stream, MemorySegment params) {
    int rc;
    try {
      rc = (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream, params,
          MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (rc != 0) {
      throw new CudaException("cuLaunchKernel(" + name + ", grid " + gx + "x" + gy + "x" + gz + ", block " + bx + ")",
          rc, errorName(rc), null);
    }
  }

  public MemorySegment streamCreate() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocate(ADDRESS);
      check("cuStreamCreate", (int) cuStreamCreate.invokeExact(v, 1 /* CU_STREAM_NON_BLOCKING */));
      return v.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void streamSynchronize(MemorySegment stream) {
    try {
      check("cuStreamSynchronize", (int) cuStreamSynchronize.invokeExact(stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void streamDestroy(MemorySegment stream) {
    try {
      check("cuStreamDestroy_v2", (int) cuStreamDestroy.invokeExact(stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }
}
