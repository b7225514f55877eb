package dev.glance.engine.runtime;

import dev.glance.engine.generate.FinishReason;

/**
 * What a generation produced. {@code text} is everything generated (special tokens such as
 * {@code <think>} kept, stop text removed); {@code reasoning} and {@code answer} split it at the
 * thinking tags. {@code nonFiniteLogitSteps} counts decode steps whose logits held an infinity (a
 * numerical problem worth a look even when the answer came out; NaN ends generation with {@link
 * NonFiniteLogitsException}).
 */
public record GenerationResult(
    String text,
    String reasoning,
    String answer,
    int[] tokenIds,
    int promptTokens,
    int imageTokens,
    FinishReason finishReason,
    Timings timings,
    int nonFiniteLogitSteps) {

  public GenerationResult(String text, String reasoning, String answer, int[] tokenIds,
      int promptTokens, int imageTokens, FinishReason finishReason, Timings timings) {
    this(text, reasoning, answer, tokenIds, promptTokens, imageTokens, finishReason, timings, 0);
  }

  public int completionTokens() {
    return tokenIds.length;
  }
}
