package dev.glance.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.cuda.ffm.LibraryLocator;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a GPU where there is none gives a reason, not a crash. */
class CudaAvailabilityTest {

  @Test
  void noDriverLibraryMeansUnavailableWithTheReason(@TempDir Path empty) {
    CudaAvailability a = CudaDevice.open(0, new LibraryLocator(List.of(empty), false));
    CudaAvailability.Unavailable u = assertInstanceOf(CudaAvailability.Unavailable.class, a);
    assertTrue(u.reason().startsWith("CUDA driver not found (tried libcuda.so.1 in 1 directories"), u.reason());
    assertTrue(u.reason().endsWith("is the NVIDIA driver installed?"), u.reason());
  }

  @Test
  void thisMachinesOwnSearchFailsCleanlyWhenItHasNoDriver() {
    CudaAvailability a = CudaDevice.open(0, LibraryLocator.fromEnvironment());
    if (a instanceof CudaAvailability.Available av) {
      av.device().close();
      Assumptions.abort("this machine has a working CUDA driver and GPU");
    }
    CudaAvailability.Unavailable u = (CudaAvailability.Unavailable) a;
    assertTrue(!u.reason().isBlank() && !u.reason().contains("\n"), "one line: " + u.reason());
  }
}
