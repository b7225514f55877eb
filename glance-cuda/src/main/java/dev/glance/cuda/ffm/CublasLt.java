package dev.glance.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Map;

/**
 * The cuBLASLt functions Glance uses (libcublasLt.so.13 or .12): a handle, matmul descriptors,
 * matrix layouts, preferences, the heuristic query and the matmul itself. Enum values are those
 * of cublasLt.h / cublas_api.h / library_types.h, identical in CUDA 12 and 13.
 */
public final class CublasLt {
  public static final int CUDA_R_32F = 0;
  public static final int CUDA_R_16BF = 14;
  public static final int COMPUTE_32F = 68;
  public static final int OP_N = 0;
  public static final int OP_T = 1;
  public static final int DESC_TRANSA = 3;
  public static final int DESC_TRANSB = 4;
  public static final int DESC_EPILOGUE = 7;
  public static final int DESC_BIAS_POINTER = 8;
  public static final int EPILOGUE_DEFAULT = 1;
  public static final int EPILOGUE_BIAS = 4;
  public static final int PREF_MAX_WORKSPACE_BYTES = 1;
  public static final int STATUS_NOT_SUPPORTED = 15;

  private static final Map<Integer, String> STATUS = Map.of(
      0, "CUBLAS_STATUS_SUCCESS", 1, "CUBLAS_STATUS_NOT_INITIALIZED", 3, "CUBLAS_STATUS_ALLOC_FAILED",
      7, "CUBLAS_STATUS_INVALID_VALUE", 8, "CUBLAS_STATUS_ARCH_MISMATCH", 11, "CUBLAS_STATUS_MAPPING_ERROR",
      13, "CUBLAS_STATUS_EXECUTION_FAILED", 14, "CUBLAS_STATUS_INTERNAL_ERROR", 15, "CUBLAS_STATUS_NOT_SUPPORTED",
      16, "CUBLAS_STATUS_LICENSE_ERROR");

  private final NativeFunctions lib;
  private final MethodHandle create;
  private final MethodHandle destroy;
  private final MethodHandle version;
  private final MethodHandle descCreate;
  private final MethodHandle descDestroy;
  private final MethodHandle descSetAttribute;
  private final MethodHandle layoutCreate;
  private final MethodHandle layoutDestroy;
  private final MethodHandle prefCreate;
  private final MethodHandle prefDestroy;
  private final MethodHandle prefSetAttribute;
  private final MethodHandle heuristic;
  private final MethodHandle matmul;

  public CublasLt(LibraryLoad.Loaded library) {
    lib = new NativeFunctions(library);
    create = lib.bind("cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    destroy = lib.bind("cublasLtDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    version = lib.bind("cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
    descCreate = lib.bind("cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    descDestroy = lib.bind("cublasLtMatmulDescDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    descSetAttribute = lib.bind("cublasLtMatmulDescSetAttribute",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
    layoutCreate = lib.bind("cublasLtMatrixLayoutCreate",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    layoutDestroy = lib.bind("cublasLtMatrixLayoutDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    prefCreate = lib.bind("cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    prefDestroy = lib.bind("cublasLtMatmulPreferenceDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    prefSetAttribute = lib.bind("cublasLtMatmulPreferenceSetAttribute",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
    heuristic = lib.bind("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    matmul = lib.bind("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
  }

  public LibraryLoad.Loaded library() {
    return lib.library();
  }

  /** The symbolic name of a cublasStatus_t. */
  public static String statusName(int status) {
    return STATUS.getOrDefault(status, "CUBLAS_STATUS_" + status);
  }

  static void check(String call, int status) {
    if (status != 0) {
      throw new CudaException(call, status, statusName(status), null);
    }
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

  /** cuBLASLt's version as major*10000 + minor*100 + patch. */
  public long version() {
    try {
      return (long) version.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public MemorySegment create() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      check("cublasLtCreate", (int) create.invokeExact(p));
      return p.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void destroy(MemorySegment handle) {
    try {
      check("cublasLtDestroy", (int) destroy.invokeExact(handle));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public MemorySegment matmulDesc(int computeType, int scaleType) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      check("cublasLtMatmulDescCreate", (int) descCreate.invokeExact(p, computeType, scaleType));
      return p.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void destroyMatmulDesc(MemorySegment desc) {
    try {
      check("cublasLtMatmulDescDestroy", (int) descDestroy.invokeExact(desc));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void setDescInt(MemorySegment desc, int attribute, int value) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocateFrom(JAVA_INT, value);
      check("cublasLtMatmulDescSetAttribute(" + attribute + ")", (int) descSetAttribute.invokeExact(desc, attribute, v, 4L));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void setDescPointer(MemorySegment desc, int attribute, long pointer) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment v = a.allocateFrom(JAVA_LONG, pointer);
      check("cublasLtMatmulDescSetAttribute(" + attribute + ")", (int) descSetAttribute.invokeExact(desc, attribute, v, 8L));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** A column-major layout of rows x cols with leading dimension ld. */
  public MemorySegment layout(int type, long rows, long cols, long ld) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      check("cublasLtMatrixLayoutCreate(" + rows + "x" + cols + ")", (int) layoutCreate.invokeExact(p, type, rows, cols, ld));
      return p.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void destroyLayout(MemorySegment layout) {
    try {
      check("cublasLtMatrixLayoutDestroy", (int) layoutDestroy.invokeExact(layout));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public MemorySegment preference(long maxWorkspaceBytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(ADDRESS);
      check("cublasLtMatmulPreferenceCreate", (int) prefCreate.invokeExact(p));
      MemorySegment pref = p.get(ADDRESS, 0);
      MemorySegment v = a.allocateFrom(JAVA_LONG, maxWorkspaceBytes);
      check("cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)",
          (int) prefSetAttribute.invokeExact(pref, PREF_MAX_WORKSPACE_BYTES, v, 8L));
      return pref;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  public void destroyPreference(MemorySegment pref) {
    try {
      check("cublasLtMatmulPreferenceDestroy", (int) prefDestroy.invokeExact(pref));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Asks for the best algorithm; returns the heuristic result (a {@link HeuristicResult#LAYOUT}
   * struct in {@code arena}) or null when cuBLASLt has none for this problem.
   */
  public MemorySegment bestAlgorithm(MemorySegment handle, MemorySegment desc, MemorySegment a, MemorySegment b,
      MemorySegment c, MemorySegment d, MemorySegment pref, Arena arena) {
    MemorySegment result = arena.allocate(HeuristicResult.LAYOUT);
    try (Arena tmp = Arena.ofConfined()) {
      MemorySegment count = tmp.allocate(JAVA_INT);
      int rc = (int) heuristic.invokeExact(handle, desc, a, b, c, d, pref, 1, result, count);
      if (rc == STATUS_NOT_SUPPORTED) {
        return null;
      }
      check("cublasLtMatmulAlgoGetHeuristic", rc);
      if (count.get(JAVA_INT, 0) < 1 || HeuristicResult.state(result) != 0) {
        return null;
      }
      return result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** D = alpha * op(A) op(B) + beta * C on {@code stream}; alpha and beta are host float pointers. */
  public void matmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, long a, MemorySegment aLayout,
      long b, MemorySegment bLayout, MemorySegment beta, long c, MemorySegment cLayout, long d,
      MemorySegment dLayout, MemorySegment algo, long workspace, long workspaceBytes, MemorySegment stream) {
    int rc;
    try {
      rc = (int) matmul.invokeExact(handle, desc, alpha, MemorySegment.ofAddress(a), aLayout, MemorySegment.ofAddress(b),
          bLayout, beta, MemorySegment.ofAddress(c), cLayout, MemorySegment.ofAddress(d), dLayout, algo,
          MemorySegment.ofAddress(workspace), workspaceBytes, stream);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    check("cublasLtMatmul", rc);
  }
}
