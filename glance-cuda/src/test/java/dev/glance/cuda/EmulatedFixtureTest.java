package dev.glance.cuda;

import dev.glance.cuda.emu.EmulatedDevice;
import dev.glance.cuda.runtime.Device;

/** The fixture cases through the CUDA backend on the CPU emulation of the device. */
class EmulatedFixtureTest extends FixtureCases {
  @Override
  Device newDevice() {
    return new EmulatedDevice();
  }
}
