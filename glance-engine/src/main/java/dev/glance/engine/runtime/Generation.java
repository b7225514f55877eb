package dev.glance.engine.runtime;

import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.generate.Sampler;
import dev.glance.engine.generate.StopChecker;
import dev.glance.engine.generate.StopTokenIds;
import dev.glance.engine.generate.ThinkingSplitter;
import dev.glance.engine.text.TokenStreamDecoder;
import dev.glance.engine.text.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The token-by-token side of one request: given each step's logits it checks them, samples,
 * applies the stop rules, detokenizes and streams text to the sink. The same object serves the
 * one-request loop of {@link Engine#generate} and the batch scheduler, so both produce the same
 * tokens and text.
 */
final class Generation {
  private final Prepared prepared;
  private final Sampler sampler;
  private final StopChecker stop;
  private final TokenStreamDecoder detok;
  private final ThinkingSplitter split = new ThinkingSplitter();
  private final TokenSink sink;
  private final BooleanSupplier cancelled;
  private final int[] contextIds;
  private final int[] generated;
  private final int vocab;
  private final StringBuilder full = new StringBuilder();
  private int length;
  private int count;
  private int nonFiniteSteps;
  private FinishReason finish;
  private final int cachedTokens;

  Generation(Prepared prepared, int cachedTokens, StopTokenIds stopIds, int context, Tokenizer tokenizer, int vocab, TokenSink sink,
      BooleanSupplier cancelled) {
    this.prepared = prepared;
    this.cachedTokens = cachedTokens;
    var sampling = prepared.request().sampling();
    this.sampler = new Sampler(sampling, vocab);
    this.stop = new StopChecker(sampling, stopIds, context - prepared.ids().length);
    this.detok = tokenizer.streamDecoder(false);
    this.sink = sink;
    this.cancelled = cancelled;
    this.vocab = vocab;
    this.contextIds = Arrays.copyOf(prepared.ids(), prepared.capacity());
    this.length = prepared.ids().length;
    this.generated = new int[sampling.maxTokens()];
  }

  /**
   * Takes the logits of the next position; returns the token to feed the model next, or -1 when
   * generation has ended (stop, length, or cancellation, checked first).
   */
  int next(float[] logits) {
    if (cancelled.getAsBoolean()) {
      finish = stop.abort(FinishReason.CANCELLED).finish().orElseThrow();
      emit(split.finish());
      return -1;
    }
    // One pass over the logits per token, negligible next to the forward pass, so that a
    // numerical fault is reported as such rather than as odd text.
    int nans = 0;
    int infinities = 0;
    for (int i = 0; i < vocab; i++) {
      float v = logits[i];
      if (v != v) {
        nans++;
      } else if (Float.isInfinite(v)) {
        infinities++;
      }
    }
    if (nans > 0) {
      throw new NonFiniteLogitsException(count, nans);
    }
    if (infinities > 0) {
      nonFiniteSteps++;
    }
    int token = sampler.next(logits, contextIds, length);
    contextIds[length++] = token;
    generated[count++] = token;
    StopChecker.Step step = stop.accept(token, detok.push(token));
    String text = step.text();
    if (step.finished() && step.finish().get() != FinishReason.STOP) {
      text += detok.finish();
    }
    full.append(text);
    emit(split.push(text));
    if (step.finished()) {
      finish = step.finish().get();
      emit(split.finish());
      return -1;
    }
    return token;
  }

  boolean finished() {
    return finish != null;
  }

  GenerationResult result(Timings timings) {
    return new GenerationResult(full.toString(), split.reasoning(), split.answer(), Arrays.copyOf(generated, count),
        prepared.ids().length, prepared.imageTokens(), finish, timings, prepared.imageHashes(),
        prepared.visionHits(), nonFiniteSteps, cachedTokens);
  }

  /** Ends a generation that never produced a token (cancelled before or during prefill). */
  GenerationResult cancelledResult(Prepared p) {
    if (finish == null) {
      finish = stop.abort(FinishReason.CANCELLED).finish().orElseThrow();
      emit(split.finish());
    }
    long now = System.nanoTime();
    return result(Engine.timings(p, now, now));
  }

  private void emit(List<Piece> pieces) {
    for (Piece p : pieces) {
      if (!p.text().isEmpty()) {
        sink.accept(p);
      }
    }
  }
}
