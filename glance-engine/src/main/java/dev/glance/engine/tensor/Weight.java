package dev.glance.engine.tensor;

/**
 * A model weight prepared by a {@link Backend}: a matrix [rows][cols] (for linear layers, rows are
 * output features) or a vector (rows = 1). How it is stored (mapped BF16, F32, quantised, on a GPU)
 * is the backend's business.
 */
public interface Weight {
  String name();

  int rows();

  int cols();
}
