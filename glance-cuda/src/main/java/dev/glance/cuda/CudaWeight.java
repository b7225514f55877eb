package dev.glance.cuda;

import dev.glance.engine.tensor.Weight;

/**
 * A weight uploaded once to device memory: matrices as bf16 (the checkpoint's own format for
 * GLM-4.6V; F32/F16 checkpoints are rounded to bf16), vectors (norm weights, biases) as float32.
 */
record CudaWeight(String name, int rows, int cols, boolean bf16, long pointer, long bytes) implements Weight {

  static CudaWeight of(Weight w) {
    if (w instanceof CudaWeight c) {
      return c;
    }
    throw new IllegalArgumentException("not a CUDA weight: " + w.name());
  }
}
