package dev.glance.cuda.runtime;

/**
 * One GPU as the driver describes it: ordinal, name, compute capability, multiprocessors, total
 * memory, and the driver's CUDA version (e.g. 13000 for 13.0).
 */
public record DeviceInfo(int ordinal, String name, int major, int minor, int multiprocessors, long totalBytes,
    int driverVersion) {

  /** The NVRTC architecture flag for this card, e.g. sm_90. */
  public String arch() {
    return "sm_" + major + minor;
  }

  @Override
  public String toString() {
    return "cuda:" + ordinal + " " + name + " (" + arch() + ", " + multiprocessors + " SMs, "
        + (totalBytes >> 20) + " MiB, driver CUDA " + driverVersion / 1000 + "." + (driverVersion % 1000) / 10 + ")";
  }
}
