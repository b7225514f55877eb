package dev.glance.cuda;

import dev.glance.cuda.runtime.Device;
import org.junit.jupiter.api.Tag;

/** The backend twin cases on a real GPU (run with -Dgroups=gpu; see docs/GPU.md). */
@Tag("gpu")
class GpuBackendTwinTest extends BackendTwinCases {
  @Override
  Device newDevice() {
    return GpuDevices.open();
  }
}
