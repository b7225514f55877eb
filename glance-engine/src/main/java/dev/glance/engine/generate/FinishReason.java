package dev.glance.engine.generate;

/** Why generation of one sequence ended. */
public enum FinishReason {
  /** The model produced an end-of-sequence id, or the output matched a stop string. */
  STOP("stop"),
  /** The request's {@code max_tokens} were generated. */
  LENGTH("length"),
  /** The model's context window is full; no position is left for another token. */
  CONTEXT("length"),
  /** The caller gave up (client disconnected, timeout, shutdown); no response is owed. */
  CANCELLED("cancelled");

  private final String apiName;

  FinishReason(String apiName) {
    this.apiName = apiName;
  }

  /**
   * The OpenAI-compatible {@code finish_reason}. A full context reports {@code "length"}, as vLLM
   * does, because the OpenAI schema has no separate value for it.
   */
  public String apiName() {
    return apiName;
  }
}
