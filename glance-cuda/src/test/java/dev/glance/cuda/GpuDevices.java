package dev.glance.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import dev.glance.cuda.ffm.LibraryLocator;
import dev.glance.cuda.runtime.CudaAvailability;
import dev.glance.cuda.runtime.CudaDevice;

/** Opens GPU 0 for the gpu-tagged tests; they fail (not skip) with the reason when there is none. */
final class GpuDevices {
  private GpuDevices() {}

  static CudaDevice open() {
    return switch (CudaDevice.open(0, LibraryLocator.fromEnvironment())) {
      case CudaAvailability.Available a -> {
        System.out.println("GPU: " + a.device().info() + ", kernels compiled by " + a.device().compiler());
        yield a.device();
      }
      case CudaAvailability.Unavailable u -> {
        fail("gpu-tagged test without a usable GPU: " + u.reason());
        yield null;
      }
    };
  }
}
