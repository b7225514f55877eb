package dev.glance.engine.runtime;

import dev.glance.engine.generate.FinishReason;

/**
 * What a generation produced. {@code text} is everything generated (special tokens such as
 * {@code <think>} kept, stop text removed); {@code reasoning} and {@code answer} split it at the
 * thinking tags. {@code imageHashes} identify the images (SHA-256 of decoded pixels) in prompt
 * order; {@code visionCacheHits} counts those whose embeddings came from the cache.
 * {@code cachedTokens} counts the prompt tokens whose keys and values came from the prefix cache
 * (not computed by this request's prefill). {@code nonFiniteLogitSteps} counts decode steps whose logits held an infinity (a
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
    java.util.List<String> imageHashes,
    int visionCacheHits,
    int nonFiniteLogitSteps,
    int cachedTokens) {

  public int completionTokens() {
    return tokenIds.length;
  }
}
