package dev.glance.cli;

import dev.glance.cuda.CudaBackend;
import dev.glance.cuda.ffm.LibraryLocator;
import dev.glance.cuda.runtime.CudaAvailability;
import dev.glance.cuda.runtime.CudaDevice;
import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.cpu.CpuBackend;

/**
 * The {@code --device} flag: {@code cpu} (default), {@code cuda} (GPU 0) or {@code cuda:N}.
 * Asking for CUDA where it cannot run is an error with one line saying why (no driver, no such
 * GPU, no cuBLASLt/NVRTC), never a silent fall back to a CPU run that would be many times slower.
 */
record BackendChoice(boolean cuda, int ordinal) {

  static BackendChoice parse(String flag) {
    String s = flag.trim().toLowerCase(java.util.Locale.ROOT);
    if (s.equals("cpu")) {
      return new BackendChoice(false, 0);
    }
    if (s.equals("cuda")) {
      return new BackendChoice(true, 0);
    }
    if (s.startsWith("cuda:")) {
      try {
        int n = Integer.parseInt(s.substring(5));
        if (n >= 0) {
          return new BackendChoice(true, n);
        }
      } catch (NumberFormatException e) {
        // fall through
      }
    }
    throw new GlanceException.BadRequest("--device must be cpu, cuda or cuda:N, got '" + flag + "'");
  }

  @Override
  public String toString() {
    return cuda ? "cuda:" + ordinal : "cpu";
  }

  /** The CUDA backend on this choice's GPU; fails with the reason CUDA cannot be used. */
  CudaBackend openCuda() {
    return switch (CudaDevice.open(ordinal, LibraryLocator.fromEnvironment())) {
      case CudaAvailability.Available a -> new CudaBackend(a.device());
      case CudaAvailability.Unavailable u ->
          throw new GlanceException.Unsupported("--device " + this + ": CUDA is not available: " + u.reason());
    };
  }

  Backend open(Integer threads) {
    if (cuda) {
      return openCuda();
    }
    return threads == null ? new CpuBackend() : new CpuBackend(threads);
  }
}
