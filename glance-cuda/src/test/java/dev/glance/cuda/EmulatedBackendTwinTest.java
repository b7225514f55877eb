package dev.glance.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.cuda.emu.EmulatedDevice;
import dev.glance.cuda.runtime.Device;

/** The backend twin cases on the CPU emulation of the device: runs in every build. */
class EmulatedBackendTwinTest extends BackendTwinCases {
  private EmulatedDevice device;
  private int gemms;
  private int gemvs;
  private int combines;

  @Override
  Device newDevice() {
    device = new EmulatedDevice();
    return device;
  }

  @Override
  void expectPath(String kernel, boolean used) {
    if (kernel.equals("linear")) {
      int g = device.gemms();
      int v = device.launches().getOrDefault("gemv_bf16", 0);
      assertTrue(used ? g == gemms + 1 && v == gemvs : v == gemvs + 1 && g == gemms,
          "linear took the " + (used ? "matrix-vector" : "GEMM") + " path");
      gemms = g;
      gemvs = v;
    } else {
      int c = device.launches().getOrDefault(kernel, 0);
      assertTrue(c > combines, kernel + " was launched");
      combines = c;
    }
  }
}
