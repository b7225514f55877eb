package dev.glance.cuda;

import dev.glance.engine.tensor.Tensor;

/** A float32 activation matrix in device memory, row-major, at {@code offset} bytes into a buffer. */
record CudaTensor(DeviceBuffer buffer, long offset, int rows, int cols) implements Tensor {

  long pointer() {
    return buffer.pointer() + offset;
  }

  long elements() {
    return (long) rows * cols;
  }

  long bytes() {
    return elements() * Float.BYTES;
  }

  static CudaTensor of(Tensor t) {
    if (t instanceof CudaTensor c) {
      return c;
    }
    throw new IllegalArgumentException("not a CUDA tensor: " + t);
  }
}
