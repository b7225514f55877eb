package dev.glance.cuda.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** Argument packing for cuLaunchKernel, struct layouts and error names: what FFM hands to C. */
class BindingLayoutTest {

  @Test
  void kernelArgumentsAreAnArrayOfPointersToAlignedValues() {
    try (Arena arena = Arena.ofConfined()) {
      KernelArgs args = new KernelArgs(arena).ptr(0x7f00_1234_5600L).i32(-7).f32(1.5f).i64(1L << 40);
      assertEquals(4, args.count());
      MemorySegment slots = args.pointers();
      for (int i = 0; i < 4; i++) {
        MemorySegment p = slots.getAtIndex(ADDRESS, i);
        assertEquals(args.cell(i).address(), p.address(), "slot " + i + " points at its value");
        assertEquals(0, p.address() % 8, "value " + i + " is 8-byte aligned");
      }
      assertEquals(0x7f00_1234_5600L, args.cell(0).get(JAVA_LONG, 0));
      assertEquals(-7, args.cell(1).get(JAVA_INT, 0));
      assertEquals(1.5f, args.cell(2).get(JAVA_FLOAT, 0));
      assertEquals(1L << 40, args.cell(3).get(JAVA_LONG, 0));
      args.reset().i32(3);
      assertEquals(1, args.count());
      assertEquals(3, args.cell(0).get(JAVA_INT, 0));
      KernelArgs full = new KernelArgs(arena);
      for (int i = 0; i < 24; i++) {
        full.i32(i);
      }
      assertThrows(IllegalStateException.class, () -> full.i32(24));
    }
  }

  @Test
  void heuristicResultMatchesCublasLtH() {
    // typedef struct { cublasLtMatmulAlgo_t algo (uint64_t[8]); size_t workspaceSize;
    //   cublasStatus_t state; float wavesCount; int reserved[4]; } cublasLtMatmulHeuristicResult_t;
    assertEquals(96, HeuristicResult.LAYOUT.byteSize());
    assertEquals(64, HeuristicResult.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("workspaceSize")));
    assertEquals(72, HeuristicResult.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("state")));
    assertEquals(76, HeuristicResult.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("wavesCount")));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment r = arena.allocate(HeuristicResult.LAYOUT);
      r.set(JAVA_LONG, 64, 4096);
      r.set(JAVA_INT, 72, 15);
      assertEquals(4096, HeuristicResult.workspaceSize(r));
      assertEquals(15, HeuristicResult.state(r));
      assertEquals(64, HeuristicResult.algo(r).byteSize());
    }
  }

  @Test
  void errorsNameTheCallAndTheError() {
    assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CuResult.name(2));
    assertEquals("CUDA_ERROR_NO_DEVICE", CuResult.name(100));
    assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CuResult.name(700));
    assertEquals("CUDA_ERROR_12345", CuResult.name(12345));
    assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CublasLt.statusName(15));
    assertEquals("CUBLAS_STATUS_99", CublasLt.statusName(99));
    CudaException e = new CudaException("cuMemAlloc_v2(1024 bytes)", 2, CuResult.name(2), null);
    assertEquals("cuMemAlloc_v2(1024 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2)", e.getMessage());
    CudaException lt = assertThrows(CudaException.class, () -> CublasLt.check("cublasLtMatmul", 7));
    assertEquals("cublasLtMatmul failed: CUBLAS_STATUS_INVALID_VALUE (7)", lt.getMessage());
    assertEquals(7, lt.code());
    assertTrue(new CudaException("nvrtcCompileProgram(x.cu)", 6, "NVRTC_ERROR_COMPILATION", "x.cu(3): error")
        .getMessage().endsWith(": x.cu(3): error"));
  }
}
