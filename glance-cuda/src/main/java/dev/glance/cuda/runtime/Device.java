package dev.glance.cuda.runtime;

import dev.glance.cuda.ffm.KernelArgs;
import java.lang.foreign.MemorySegment;

/**
 * What the CUDA backend needs from a GPU: device memory, pinned host memory, copies and kernel
 * launches queued in order on one stream, bf16 GEMMs, and a way to wait. {@link CudaDevice} is
 * the real one (driver API, NVRTC, cuBLASLt); the tests also run the backend on an emulated
 * device whose "device memory" is host memory and whose kernels are the same CUDA C sources
 * compiled for the CPU, so the backend's own logic is tested where no GPU exists.
 */
public interface Device extends AutoCloseable {

  DeviceInfo info();

  /** Makes this device usable from the calling thread (binds the CUDA context to it). */
  void bind();

  long malloc(long bytes);

  void free(long pointer);

  MemorySegment mallocHost(long bytes);

  void freeHost(MemorySegment host);

  /** Queues a host-to-device copy; {@code src} (pinned) must stay unchanged until the stream reaches it. */
  void copyToDevice(long dst, MemorySegment src, long bytes);

  /** Queues a device-to-host copy into pinned memory; valid after {@link #synchronize()}. */
  void copyToHost(MemorySegment dst, long src, long bytes);

  void copyOnDevice(long dst, long src, long bytes);

  void zero(long pointer, long bytes);

  /** Queues kernel {@code name} (from the sources in {@link KernelSources}). */
  void launch(String name, int gridX, int gridY, int gridZ, int block, KernelArgs args);

  /**
   * Queues out[n][outF] = x[n][in] W[outF][in]^T (+ bias[outF]): x and W bf16, out and bias
   * float32, accumulation in float32. bias may be 0.
   */
  void gemmBf16(long w, long x, long bias, long out, int n, int in, int outF);

  /** Waits until everything queued so far has finished. */
  void synchronize();

  @Override
  void close();
}
