package dev.glance.engine.runtime;

/**
 * The model produced NaN logits, so no token can be chosen: a numerical fault in the weights or
 * the kernels, not in the request. Callers report it as an internal error and flag it for a look.
 */
public final class NonFiniteLogitsException extends IllegalStateException {
  private final int step;

  public NonFiniteLogitsException(int step, int nanCount) {
    super("the model produced " + nanCount + " NaN logits at generation step " + step);
    this.step = step;
  }

  /** The 0-based index of the token that could not be chosen. */
  public int step() {
    return step;
  }
}
