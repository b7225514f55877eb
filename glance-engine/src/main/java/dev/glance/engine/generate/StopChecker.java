package dev.glance.engine.generate;

import dev.glance.engine.GlanceException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Decides, token by token, whether generation goes on, and which text may be shown so far.
 *
 * <p>Checks run in vLLM's order: a stop id (unless {@code ignore_eos}), then the stop strings, then
 * {@code max_tokens}, then the context window. A stop id's own text is never shown; a stop string
 * and everything after it is never shown. When generation ends for any other reason, text held
 * back as a possible stop-string prefix is released with the last step.
 *
 * <p>One per sequence; not thread-safe.
 */
public final class StopChecker {

  /**
   * The outcome of one token.
   *
   * @param text newly showable text (possibly empty; never part of a stop string)
   * @param finish why generation ended with this token, or empty to go on
   */
  public record Step(String text, Optional<FinishReason> finish) {
    public Step {
      Objects.requireNonNull(text, "text");
      Objects.requireNonNull(finish, "finish");
    }

    public boolean finished() {
      return finish.isPresent();
    }
  }

  private final StopTokenIds stopIds;
  private final boolean ignoreEos;
  private final int maxTokens;
  private final int contextRoom;
  private final StopStringFilter filter;
  private final StringBuilder text = new StringBuilder();
  private int generated;
  private FinishReason finish;
  private int matchedStopId = -1;

  /**
   * @param params the request (stop strings, max_tokens, ignore_eos)
   * @param stopIds the checkpoint's end-of-sequence ids
   * @param contextRoom positions left in the context window after the prompt: at most this many
   *     tokens can be generated
   * @throws GlanceException.BadRequest when the prompt leaves no room to generate
   */
  public StopChecker(SamplingParams params, StopTokenIds stopIds, int contextRoom) {
    Objects.requireNonNull(params, "params");
    this.stopIds = Objects.requireNonNull(stopIds, "stopIds");
    if (contextRoom < 1) {
      throw new GlanceException.BadRequest(
          "the prompt fills the model's context window; no room is left to generate a token");
    }
    this.ignoreEos = params.ignoreEos();
    this.maxTokens = params.maxTokens();
    this.contextRoom = contextRoom;
    this.filter = new StopStringFilter(params.stop());
  }

  /**
   * Records one generated token.
   *
   * @param tokenId the sampled id
   * @param decoded the text this token adds (from incremental detokenization; may be empty)
   */
  public Step accept(int tokenId, String decoded) {
    if (finish != null) {
      throw new IllegalStateException("generation already finished: " + finish);
    }
    generated++;
    if (!ignoreEos && stopIds.contains(tokenId)) {
      matchedStopId = tokenId;
      return finish(FinishReason.STOP, filter.flush());
    }
    String released = filter.push(decoded);
    if (filter.stopped()) {
      return finish(FinishReason.STOP, released);
    }
    if (generated >= maxTokens) {
      return finish(FinishReason.LENGTH, released + filter.flush());
    }
    if (generated >= contextRoom) {
      return finish(FinishReason.CONTEXT, released + filter.flush());
    }
    text.append(released);
    return new Step(released, Optional.empty());
  }

  /**
   * Ends generation early from outside (client gone, engine shutting down): releases held-back
   * text. Returns the final step with the given reason.
   */
  public Step abort(FinishReason reason) {
    if (finish != null) {
      throw new IllegalStateException("generation already finished: " + finish);
    }
    return finish(Objects.requireNonNull(reason), filter.flush());
  }

  private Step finish(FinishReason reason, String released) {
    finish = reason;
    text.append(released);
    return new Step(released, Optional.of(reason));
  }

  /** Everything shown so far; after the end, the final output text. */
  public String text() {
    return text.toString();
  }

  /** Tokens accepted so far, the stopping one included (the usage's completion_tokens). */
  public int generated() {
    return generated;
  }

  /** Why generation ended, once it has. */
  public Optional<FinishReason> finishReason() {
    return Optional.ofNullable(finish);
  }

  /** The stop string that ended generation, if one did. */
  public Optional<String> matchedStopString() {
    return filter.matched();
  }

  /** The stop id that ended generation, if one did. */
  public OptionalInt matchedStopId() {
    return matchedStopId < 0 ? OptionalInt.empty() : OptionalInt.of(matchedStopId);
  }
}
