package dev.glance.engine.tensor.cpu;

import dev.glance.engine.tensor.Tensor;

/** A heap float matrix, row-major. */
record CpuTensor(float[] data, int rows, int cols) implements Tensor {
  CpuTensor {
    if ((long) rows * cols > data.length) {
      throw new IllegalArgumentException(rows + "x" + cols + " tensor over " + data.length + " floats");
    }
  }

  static CpuTensor of(Tensor t) {
    if (t instanceof CpuTensor c) {
      return c;
    }
    throw new IllegalArgumentException("not a CPU tensor: " + t.getClass().getName());
  }
}
