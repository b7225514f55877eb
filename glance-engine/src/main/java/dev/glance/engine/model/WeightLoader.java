package dev.glance.engine.model;

import dev.glance.engine.io.TensorSource;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import java.util.Optional;

/**
 * Hands source tensors to the backend after checking each one's shape against what the config
 * says it must be, so a mismatched checkpoint fails at load naming the tensor. The text decoder's
 * matrices (the weights a decode step streams) are stored in {@code textFormat} when one is
 * given; everything else keeps the checkpoint's precision.
 */
record WeightLoader(TensorSource source, Backend backend, Optional<DType> textFormat) {

  Weight matrix(String name, int rows, int cols) {
    return backend.matrix(source.require(name, rows, cols), rows, cols);
  }

  /** A text-decoder matrix: quantised when the model is loaded with a block format. */
  Weight textMatrix(String name, int rows, int cols) {
    TensorData t = source.require(name, rows, cols);
    return backend.matrix(t, rows, cols, textFormat.orElse(t.dtype()));
  }

  /** A tensor of any rank viewed as [rows][cols] (conv kernels flattened per output channel). */
  Weight matrix(String name, int rows, int cols, long... shape) {
    return backend.matrix(source.require(name, shape), rows, cols);
  }

  Weight vector(String name, int n) {
    return backend.vector(source.require(name, n));
  }

  TensorData raw(String name, long... shape) {
    return source.require(name, shape);
  }
}
