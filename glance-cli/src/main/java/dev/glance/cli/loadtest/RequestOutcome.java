package dev.glance.cli.loadtest;

/**
 * One request's result as the load generator saw it: HTTP status (0 when the connection failed),
 * end-to-end and time-to-first-token milliseconds, tokens generated, and whether the server said
 * it served the image from its vision cache ({@code timings.cache.vision_hits > 0}), prompt
 * tokens from its prefix KV cache ({@code usage.prompt_tokens_details.cached_tokens}) or the whole
 * answer from its response cache ({@code timings.cache.response}).
 */
public record RequestOutcome(int status, double latencyMs, double ttftMs, int completionTokens, boolean repeated,
    boolean visionCacheHit, int cachedPromptTokens, boolean responseCacheHit) {

  /** A request that got no answer: an HTTP error status, or 0 when the connection failed. */
  static RequestOutcome failed(int status, double latencyMs, boolean repeated) {
    return new RequestOutcome(status, latencyMs, 0, 0, repeated, false, 0, false);
  }
}
