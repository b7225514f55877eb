package dev.glance.engine.runtime;

import dev.glance.engine.generate.FinishReason;

/**
 * What a generation produced. {@code text} is everything generated (special tokens such as
 * {@code <think>} kept, stop text removed); {@code reasoning} and {@code answer} split it at the
 * thinking tags.
 */
public record GenerationResult(
    String text,
    String reasoning,
    String answer,
    int[] tokenIds,
    int promptTokens,
    int imageTokens,
    FinishReason finishReason,
    Timings timings) {

  public int completionTokens() {
    return tokenIds.length;
  }
}
