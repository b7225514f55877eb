package dev.glance.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * NVRTC (libnvrtc.so.13 or .12): compiles CUDA C source to CUBIN for a real architecture
 * ({@code sm_90}) or to PTX for a virtual one ({@code compute_90}), with in-memory headers. A
 * failed compile throws with NVRTC's log, which names the file and line.
 */
public final class Nvrtc {
  private final NativeFunctions lib;
  private final MethodHandle version;
  private final MethodHandle errorString;
  private final MethodHandle createProgram;
  private final MethodHandle destroyProgram;
  private final MethodHandle compileProgram;
  private final MethodHandle logSize;
  private final MethodHandle log;
  private final MethodHandle ptxSize;
  private final MethodHandle ptx;
  private final MethodHandle cubinSize;
  private final MethodHandle cubin;

  /** A compiled image: CUBIN bytes, or PTX text (NUL-terminated) when {@code ptx} is true. */
  public record Image(byte[] bytes, boolean ptx, String log) {}

  public Nvrtc(LibraryLoad.Loaded library) {
    lib = new NativeFunctions(library);
    version = lib.bind("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    errorString = lib.bind("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    createProgram = lib.bind("nvrtcCreateProgram",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    destroyProgram = lib.bind("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    compileProgram = lib.bind("nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    logSize = lib.bind("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    log = lib.bind("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    ptxSize = lib.bind("nvrtcGetPTXSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    ptx = lib.bind("nvrtcGetPTX", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    cubinSize = lib.bind("nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    cubin = lib.bind("nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  }

  public LibraryLoad.Loaded library() {
    return lib.library();
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

  private String errorName(int rc) {
    try {
      MemorySegment s = (MemorySegment) errorString.invokeExact(rc);
      return s.equals(MemorySegment.NULL) ? "NVRTC_ERROR_" + rc : s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "NVRTC_ERROR_" + rc;
    }
  }

  private void check(String call, int rc, String detail) {
    if (rc != 0) {
      throw new CudaException(call, rc, errorName(rc), detail);
    }
  }

  /** NVRTC's version as {major, minor}. */
  public int[] version() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment major = a.allocate(JAVA_INT);
      MemorySegment minor = a.allocate(JAVA_INT);
      check("nvrtcVersion", (int) version.invokeExact(major, minor), null);
      return new int[] {major.get(JAVA_INT, 0), minor.get(JAVA_INT, 0)};
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Compiles {@code source} (named {@code name} in messages) with the given in-memory headers
   * (include name to text) and options, e.g. {@code --gpu-architecture=sm_90}. A real
   * architecture gives CUBIN, a virtual one PTX.
   */
  public Image compile(String source, String name, Map<String, String> headers, List<String> options) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment prog = a.allocate(ADDRESS);
      int n = headers.size();
      MemorySegment texts = a.allocate(ADDRESS, Math.max(1, n));
      MemorySegment names = a.allocate(ADDRESS, Math.max(1, n));
      int i = 0;
      for (var e : headers.entrySet()) {
        names.setAtIndex(ADDRESS, i, a.allocateFrom(e.getKey()));
        texts.setAtIndex(ADDRESS, i, a.allocateFrom(e.getValue()));
        i++;
      }
      MemorySegment headerTexts = n == 0 ? MemorySegment.NULL : texts;
      MemorySegment headerNames = n == 0 ? MemorySegment.NULL : names;
      check("nvrtcCreateProgram(" + name + ")", (int) createProgram.invokeExact(prog, a.allocateFrom(source),
          a.allocateFrom(name), n, headerTexts, headerNames), null);
      MemorySegment p = prog.get(ADDRESS, 0);
      try {
        MemorySegment opts = a.allocate(ADDRESS, Math.max(1, options.size()));
        for (int j = 0; j < options.size(); j++) {
          opts.setAtIndex(ADDRESS, j, a.allocateFrom(options.get(j)));
        }
        int rc = (int) compileProgram.invokeExact(p, options.size(), opts);
        String text = programLog(p, a);
        check("nvrtcCompileProgram(" + name + ", " + String.join(" ", options) + ")", rc, text);
        boolean real = options.stream().anyMatch(o -> o.contains("sm_"));
        MemorySegment size = a.allocate(JAVA_LONG);
        byte[] bytes;
        if (real) {
          check("nvrtcGetCUBINSize", (int) cubinSize.invokeExact(p, size), null);
          MemorySegment buf = a.allocate(size.get(JAVA_LONG, 0));
          check("nvrtcGetCUBIN", (int) cubin.invokeExact(p, buf), null);
          bytes = buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } else {
          check("nvrtcGetPTXSize", (int) ptxSize.invokeExact(p, size), null);
          MemorySegment buf = a.allocate(size.get(JAVA_LONG, 0));
          check("nvrtcGetPTX", (int) ptx.invokeExact(p, buf), null);
          bytes = buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
        return new Image(bytes, !real, text);
      } finally {
        int ignored = (int) destroyProgram.invokeExact(prog);
      }
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private String programLog(MemorySegment prog, Arena a) throws Throwable {
    MemorySegment size = a.allocate(JAVA_LONG);
    if ((int) logSize.invokeExact(prog, size) != 0) {
      return "";
    }
    long n = size.get(JAVA_LONG, 0);
    if (n <= 1) {
      return "";
    }
    MemorySegment buf = a.allocate(n);
    if ((int) log.invokeExact(prog, buf) != 0) {
      return "";
    }
    return buf.getString(0).strip();
  }
}
