package dev.glance.cuda.runtime;

/**
 * The outcome of opening a GPU: the device, or the one-line reason it cannot be used (no driver,
 * no device, missing cuBLASLt or NVRTC), which the CLI prints as is.
 */
public sealed interface CudaAvailability {
  record Available(CudaDevice device) implements CudaAvailability {}

  record Unavailable(String reason) implements CudaAvailability {}
}
