package dev.glance.engine.io;

import dev.glance.engine.tensor.TensorData;

/**
 * Where a model's tensors come from: a checkpoint directory, or (for benchmarks) generated
 * weights of a named shape. Lookups use the transformers 5.x names.
 */
public interface TensorSource {
  /** The tensor {@code name}, or null when absent. */
  TensorData find(String name);

  /** The tensor {@code name}, checked to have exactly {@code shape}; ModelLoad otherwise. */
  TensorData require(String name, long... shape);

  /** Names the source in error messages (a directory, a shape name). */
  String describe();
}
