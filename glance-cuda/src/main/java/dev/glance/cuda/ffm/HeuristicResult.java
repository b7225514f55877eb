package dev.glance.cuda.ffm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * cublasLtMatmulHeuristicResult_t: the chosen algorithm (64 opaque bytes, which is also the
 * cublasLtMatmulAlgo_t passed to cublasLtMatmul, at offset 0), the workspace it needs, its status
 * and a wave count. 96 bytes.
 */
public final class HeuristicResult {
  public static final StructLayout LAYOUT = MemoryLayout.structLayout(
      MemoryLayout.sequenceLayout(8, JAVA_LONG).withName("algo"),
      JAVA_LONG.withName("workspaceSize"),
      JAVA_INT.withName("state"),
      JAVA_FLOAT.withName("wavesCount"),
      MemoryLayout.sequenceLayout(4, JAVA_INT).withName("reserved"));

  private static final VarHandle WORKSPACE = LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("workspaceSize"));
  private static final VarHandle STATE = LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("state"));

  private HeuristicResult() {}

  public static long workspaceSize(MemorySegment result) {
    return (long) WORKSPACE.get(result, 0L);
  }

  public static int state(MemorySegment result) {
    return (int) STATE.get(result, 0L);
  }

  /** The cublasLtMatmulAlgo_t inside a result. */
  public static MemorySegment algo(MemorySegment result) {
    return result.asSlice(0, 64);
  }
}
