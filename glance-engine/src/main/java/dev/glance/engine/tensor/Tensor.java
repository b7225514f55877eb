package dev.glance.engine.tensor;

/**
 * An activation matrix of float32 values, rows x cols, owned by a {@link Backend} (heap memory on
 * the CPU, device memory on a GPU). Model code never touches its elements directly; it passes
 * tensors to backend ops and copies to or from the host at stage boundaries.
 */
public interface Tensor {
  int rows();

  int cols();
}
