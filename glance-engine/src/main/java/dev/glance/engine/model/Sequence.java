package dev.glance.engine.model;

import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;

/**
 * The decoding state of one sequence: its KV cache, the rope delta fixed at prefill, and the
 * buffers a decode step reuses. Prefill once, then step token by token; each call returns the
 * logits of the last position into a buffer owned by the sequence.
 */
public final class Sequence {
  private final Glm4vModel model;
  private final Backend b;
  private final KvCache cache;
  private final DecoderWorkspace stepWorkspace;
  private final Tensor stepHidden;
  private final Tensor stepLogits;
  private final Tensor lastHidden;
  private final float[] logits;
  private int ropeDelta;
  private boolean prefilled;

  Sequence(Glm4vModel model, int capacity) {
    this.model = model;
    this.b = model.backend();
    var c = model.config().text();
    this.cache = b.kvCache(c.layers(), c.kvHeads(), c.headDim(), capacity, model.kvType());
    this.stepWorkspace = model.text().workspace(b, 1);
    this.stepHidden = b.allocate(1, c.hidden());
    this.stepLogits = b.allocate(1, c.vocabSize());
    this.lastHidden = b.allocate(1, c.hidden());
    this.logits = new float[c.vocabSize()];
  }

  /** The sequence's KV cache (for memory accounting). */
  public KvCache cache() {
    return cache;
  }

  public int length() {
    return cache.length();
  }

  public int capacity() {
    return cache.capacity();
  }

  public int ropeDelta() {
    return ropeDelta;
  }

  /**
   * Runs the prompt (embeddings with images scattered in) through the decoder. Returns the
   * normalised hidden states of every prompt row; {@link #logits()} then holds the last row's.
   */
  public Tensor prefill(Tensor embeds, RopeIndex index, TextDecoder.LayerObserver observer) {
    if (prefilled) {
      throw new IllegalStateException("sequence already prefilled");
    }
    int n = embeds.rows();
    if (n > cache.capacity()) {
      throw new GlanceException.BadRequest(
          "prompt of " + n + " tokens exceeds the capacity of " + cache.capacity());
    }
    DecoderWorkspace ws = model.text().workspace(b, n);
    model.text().forward(b, embeds, index.positions(), 0, cache, ws, observer);
    ropeDelta = index.ropeDelta();
    prefilled = true;
    b.copyRows(embeds, n - 1, lastHidden, 0, 1);
    model.text().logits(b, lastHidden, stepLogits);
    b.download(stepLogits, logits);
    return embeds;
  }

  /** Appends one token and computes the logits of the next. */
  public float[] step(int token) {
    if (!prefilled) {
      throw new IllegalStateException("prefill first");
    }
    int s = cache.length();
    if (s >= cache.capacity()) {
      throw new GlanceException.BadRequest("sequence reached its capacity of " + cache.capacity() + " tokens");
    }
    model.text().embedInto(b, token, stepHidden);
    model.text().step(b, stepHidden, (long) s + ropeDelta, s, cache, stepWorkspace);
    model.text().logits(b, stepHidden, stepLogits);
    b.download(stepLogits, logits);
    return logits;
  }

  /** Logits of the most recent position (valid after prefill or step). */
  public float[] logits() {
    return logits;
  }
}
