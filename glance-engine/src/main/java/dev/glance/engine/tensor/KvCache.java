package dev.glance.engine.tensor;

/**
 * Keys and values of one sequence for every decoder layer, after rotary, owned by a backend.
 * Capacity is fixed at creation (prompt plus the most tokens the request may generate), so decode
 * steps never reallocate.
 */
public interface KvCache {
  int layers();

  int capacity();

  /** Number of positions written so far (the same for every layer once a forward pass ends). */
  int length();

  /** Marks {@code n} positions as valid; called by the model after each forward pass. */
  void setLength(int n);
}
