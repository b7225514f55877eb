package dev.glance.cuda.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The cuBLASLt binding against the real library where it is installed (a GPU machine; CI, where
 * .ci/run installs NVIDIA's cuBLAS wheel): every symbol binds with the declared signature, and
 * the host-side calls (descriptors, layouts, preferences) work without a GPU.
 */
class CublasLtBindingTest {

  @Test
  void bindsAndBuildsDescriptorsWithoutAGpu() {
    try (Arena arena = Arena.ofShared()) {
      LibraryLoad load = LibraryLocator.fromEnvironment().open("cuBLASLt", LibraryLocator.CUBLAS_LT, arena);
      Assumptions.assumeTrue(load instanceof LibraryLoad.Loaded,
          () -> "cuBLASLt not installed here: " + ((LibraryLoad.Missing) load).describe());
      CublasLt lt = new CublasLt((LibraryLoad.Loaded) load);
      assertTrue(lt.version() >= 120000, "cuBLASLt version " + lt.version());
      MemorySegment desc = lt.matmulDesc(CublasLt.COMPUTE_32F, CublasLt.CUDA_R_32F);
      assertNotEquals(MemorySegment.NULL, desc);
      lt.setDescInt(desc, CublasLt.DESC_TRANSA, CublasLt.OP_T);
      lt.setDescInt(desc, CublasLt.DESC_TRANSB, CublasLt.OP_N);
      lt.setDescInt(desc, CublasLt.DESC_EPILOGUE, CublasLt.EPILOGUE_BIAS);
      lt.setDescPointer(desc, CublasLt.DESC_BIAS_POINTER, 0x100000L);
      MemorySegment a = lt.layout(CublasLt.CUDA_R_16BF, 4096, 13696, 4096);
      MemorySegment d = lt.layout(CublasLt.CUDA_R_32F, 13696, 176, 13696);
      MemorySegment pref = lt.preference(32L << 20);
      lt.destroyPreference(pref);
      lt.destroyLayout(a);
      lt.destroyLayout(d);
      lt.destroyMatmulDesc(desc);
      CudaException bad = org.junit.jupiter.api.Assertions.assertThrows(CudaException.class,
          () -> lt.setDescInt(lt.matmulDesc(CublasLt.COMPUTE_32F, CublasLt.CUDA_R_32F), 9999, 1));
      assertEquals("CUBLAS_STATUS_INVALID_VALUE", bad.errorName());
    }
  }
}
