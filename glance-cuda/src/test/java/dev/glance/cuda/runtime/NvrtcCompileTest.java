package dev.glance.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.cuda.ffm.CudaException;
import dev.glance.cuda.ffm.LibraryLoad;
import dev.glance.cuda.ffm.LibraryLocator;
import dev.glance.cuda.ffm.Nvrtc;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The NVRTC binding compiles every kernel file for sm_90 the way {@link CudaDevice} does on a
 * card (NVRTC needs no GPU). Runs where NVRTC is installed: on a GPU machine and in CI, where
 * .ci/run installs the NVIDIA NVRTC wheel into a virtualenv and points GLANCE_CUDA_LIB_PATH at it.
 */
class NvrtcCompileTest {

  @Test
  void everyKernelFileCompilesToCubinThroughTheBinding() {
    try (Arena arena = Arena.ofShared()) {
      LibraryLoad load = LibraryLocator.fromEnvironment().open("NVRTC", LibraryLocator.NVRTC, LibraryLocator.NVRTC_COMPANIONS, arena);
      Assumptions.assumeTrue(load instanceof LibraryLoad.Loaded,
          () -> "NVRTC not installed here: " + ((LibraryLoad.Missing) load).describe());
      Nvrtc nvrtc = new Nvrtc((LibraryLoad.Loaded) load);
      int[] v = nvrtc.version();
      assertTrue(v[0] >= 12, "NVRTC " + v[0] + "." + v[1]);
      Map<String, String> headers = KernelSources.headers();
      for (String file : KernelSources.FILES) {
        Nvrtc.Image image = nvrtc.compile(KernelSources.read(file), file, headers,
            List.of("-std=c++17", "-lineinfo", "--gpu-architecture=sm_90"));
        byte[] b = image.bytes();
        assertTrue(!image.ptx() && b.length > 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F',
            file + " did not give a CUBIN");
      }
      Nvrtc.Image ptx = nvrtc.compile(KernelSources.read("elementwise.cu"), "elementwise.cu", headers,
          List.of("--gpu-architecture=compute_90"));
      assertTrue(ptx.ptx() && new String(ptx.bytes()).contains(".entry rms_norm("), "PTX for a virtual architecture");
      CudaException e = assertThrows(CudaException.class, () -> nvrtc.compile("extern \"C\" __global__ void k() { nope; }",
          "broken.cu", Map.of(), List.of("--gpu-architecture=sm_90")));
      assertEquals("NVRTC_ERROR_COMPILATION", e.errorName());
      assertTrue(e.getMessage().contains("broken.cu") && e.getMessage().contains("nope"), e.getMessage());
    }
  }
}
