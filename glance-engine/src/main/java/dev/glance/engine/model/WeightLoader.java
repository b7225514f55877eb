package dev.glance.engine.model;

import dev.glance.engine.io.CheckpointWeights;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;

/**
 * Hands checkpoint tensors to the backend after checking each one's shape against what the config
 * says it must be, so a mismatched checkpoint fails at load naming the tensor.
 */
record WeightLoader(CheckpointWeights checkpoint, Backend backend) {

  Weight matrix(String name, int rows, int cols) {
    return backend.matrix(checkpoint.require(name, rows, cols), rows, cols);
  }

  /** A tensor of any rank viewed as [rows][cols] (conv kernels flattened per output channel). */
  Weight matrix(String name, int rows, int cols, long... shape) {
    return backend.matrix(checkpoint.require(name, shape), rows, cols);
  }

  Weight vector(String name, int n) {
    return backend.vector(checkpoint.require(name, n));
  }

  TensorData raw(String name, long... shape) {
    return checkpoint.require(name, shape);
  }
}
