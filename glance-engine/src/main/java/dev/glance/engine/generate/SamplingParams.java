package dev.glance.engine.generate;

import dev.glance.engine.GlanceException;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * How one request wants its tokens chosen and when it wants generation to end. Every instance is
 * valid: the compact constructor rejects out-of-range values with {@link
 * GlanceException.BadRequest}, naming the parameter as the HTTP API spells it (snake_case) so the
 * message can go to the client unchanged.
 *
 * @param temperature divides the logits before the softmax; {@code 0} means greedy (argmax), in
 *     [0, 100]
 * @param topP nucleus sampling: keep the smallest set of most likely tokens whose probability mass
 *     reaches {@code topP}; in (0, 1], {@code 1} = off
 * @param topK keep only the {@code topK} most likely tokens (plus any tied with the last); {@code
 *     0} = off, must be &gt;= 0
 * @param seed seeds the sampler's random generator, so a given seed always reproduces the same
 *     tokens for the same logits; empty = a fresh random seed per request
 * @param repetitionPenalty HF/CTRL repetition penalty over every id in the context (prompt
 *     included); {@code 1} = off, must be &gt; 0
 * @param maxTokens the most tokens to generate, &gt;= 1
 * @param stop strings that end generation when they appear in the output; the output is cut
 *     before the match. Each must be non-empty
 * @param ignoreEos keep generating past the checkpoint's end-of-sequence ids (benchmarks)
 */
public record SamplingParams(
    double temperature,
    double topP,
    int topK,
    OptionalLong seed,
    double repetitionPenalty,
    int maxTokens,
    List<String> stop,
    boolean ignoreEos) {

  /** Highest accepted temperature; above it the distribution is uniform for any practical use. */
  public static final double MAX_TEMPERATURE = 100.0;

  public SamplingParams {
    // NaN fails every comparison, so each check is written as "not inside the range".
    if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
      throw bad("temperature must be between 0 and " + MAX_TEMPERATURE + " (0 = greedy), got "
          + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw bad("top_p must be greater than 0 and at most 1, got " + topP);
    }
    if (topK < 0) {
      throw bad("top_k must be >= 0 (0 = off), got " + topK);
    }
    if (!(repetitionPenalty > 0 && Double.isFinite(repetitionPenalty))) {
      throw bad("repetition_penalty must be a finite number greater than 0 (1 = off), got "
          + repetitionPenalty);
    }
    if (maxTokens < 1) {
      throw bad("max_tokens must be >= 1, got " + maxTokens);
    }
    // A null seed from a JSON layer means "not given", the same as empty.
    seed = seed == null ? OptionalLong.empty() : seed;
    if (stop == null) {
      stop = List.of();
    } else {
      for (int i = 0; i < stop.size(); i++) {
        String s = stop.get(i);
        if (s == null || s.isEmpty()) {
          throw bad("stop strings must be non-empty, but stop[" + i + "] is "
              + (s == null ? "null" : "empty"));
        }
      }
      stop = List.copyOf(stop);
    }
  }

  /** Argmax decoding, no penalty, no stop strings, stopping at end-of-sequence ids. */
  public static SamplingParams greedy(int maxTokens) {
    return new SamplingParams(0.0, 1.0, 0, OptionalLong.empty(), 1.0, maxTokens, List.of(), false);
  }

  /**
   * True when decoding is argmax (temperature 0): no random draws at all. Top-k 1 or a tiny top-p
   * also pick the maximum in practice, but go through the sampler so ties follow HF's rules.
   */
  public boolean isGreedy() {
    return temperature == 0.0;
  }

  /** The same parameters with another seed; handy for callers that derive per-choice seeds. */
  public SamplingParams withSeed(long newSeed) {
    return new SamplingParams(
        temperature, topP, topK, OptionalLong.of(newSeed), repetitionPenalty, maxTokens, stop,
        ignoreEos);
  }

  private static GlanceException.BadRequest bad(String message) {
    return new GlanceException.BadRequest(Objects.requireNonNull(message));
  }
}
