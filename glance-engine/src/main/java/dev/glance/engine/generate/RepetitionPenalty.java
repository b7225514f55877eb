package dev.glance.engine.generate;

/**
 * HF's {@code RepetitionPenaltyLogitsProcessor} (the CTRL penalty): for every id in the context,
 * a logit above zero is divided by the penalty and any other multiplied by it, so a penalty above
 * 1 always makes a seen token less likely, whatever its sign.
 *
 * <p>It reads from the untouched source logits and writes into the working copy, so an id that
 * occurs many times in the context is penalized exactly once, as HF's gather/scatter does.
 */
final class RepetitionPenalty {

  private final float penalty;

  RepetitionPenalty(float penalty) {
    this.penalty = penalty;
  }

  /** Whether applying it would change anything. */
  boolean isOff() {
    return penalty == 1.0f;
  }

  /** The penalized value of one logit (float arithmetic, as in HF with float32 scores). */
  float apply(float logit) {
    return logit < 0 ? logit * penalty : logit / penalty;
  }

  /**
   * Sets {@code target[id] = apply(source[id])} for every distinct id in {@code
   * context[0, contextLength)}.
   *
   * @throws IllegalArgumentException for an id outside {@code [0, vocabSize)}
   */
  void apply(float[] source, float[] target, int vocabSize, int[] context, int contextLength) {
    for (int i = 0; i < contextLength; i++) {
      int id = context[i];
      if (id < 0 || id >= vocabSize) {
        throw new IllegalArgumentException(
            "context[" + i + "] = " + id + " is outside the vocabulary [0, " + vocabSize + ")");
      }
      target[id] = apply(source[id]);
    }
  }
}
