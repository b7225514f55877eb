package dev.glance.cuda;

import dev.glance.cuda.runtime.Device;
import org.junit.jupiter.api.Tag;

/** The fixture cases through the CUDA backend on a real GPU (run with -Dgroups=gpu). */
@Tag("gpu")
class GpuFixtureTest extends FixtureCases {
  @Override
  Device newDevice() {
    return GpuDevices.open();
  }
}
