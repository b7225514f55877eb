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
  private Tensor pendingEmbeds;
  private RopeIndex pendingIndex;
  private int prefillDone;

  Sequence(Glm4vModel model, int capacity) {
    this(model, model.backend().kvCache(model.config().text().layers(), model.config().text().kvHeads(),
        model.config().text().headDim(), capacity, model.kvType()));
  }

  /** A sequence over a cache made elsewhere (a block table into a shared pool). */
  Sequence(Glm4vModel model, KvCache cache) {
    this.model = model;
    this.b = model.backend();
    var c = model.config().text();
    this.cache = cache;
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

  /**
   * Starts a prefill that runs in chunks ({@link #prefillChunk}), so that a scheduler can
   * interleave a long prompt with other sequences' decode steps.
   */
  public void beginPrefill(Tensor embeds, RopeIndex index) {
    beginPrefill(embeds, index, 0);
  }

  /**
   * As {@link #beginPrefill(Tensor, RopeIndex)} when the cache already holds the keys and values
   * of prompt positions [0, start) (a cached prefix): prefill runs from {@code start}. The rotary
   * index is the whole prompt's; at least the last position must be left to compute, so that its
   * logits exist.
   */
  public void beginPrefill(Tensor embeds, RopeIndex index, int start) {
    if (prefilled || pendingEmbeds != null) {
      throw new IllegalStateException("sequence already prefilled");
    }
    if (start < 0 || start >= embeds.rows()) {
      throw new IllegalArgumentException("prefill start " + start + " outside a prompt of " + embeds.rows());
    }
    if (embeds.rows() > cache.capacity()) {
      throw new GlanceException.BadRequest(
          "prompt of " + embeds.rows() + " tokens exceeds the capacity of " + cache.capacity());
    }
    pendingEmbeds = embeds;
    pendingIndex = index;
    prefillDone = start;
    cache.setLength(start);
  }

  /** Prompt positions not yet prefilled (0 once prefill is complete). */
  public int prefillRemaining() {
    return pendingEmbeds == null ? 0 : pendingEmbeds.rows() - prefillDone;
  }

  /**
   * Runs up to {@code maxRows} more prompt positions; returns how many ran. After the last chunk
   * {@link #logits()} holds the next-token logits, as after {@link #prefill}.
   */
  public int prefillChunk(int maxRows) {
    if (pendingEmbeds == null) {
      throw new IllegalStateException("no prefill in progress");
    }
    int total = pendingEmbeds.rows();
    int n = Math.min(Math.max(1, maxRows), total - prefillDone);
    Tensor chunk;
    if (n == total) {
      chunk = pendingEmbeds;
    } else {
      chunk = b.allocate(n, pendingEmbeds.cols());
      b.copyRows(pendingEmbeds, prefillDone, chunk, 0, n);
    }
    model.text().forward(b, chunk, pendingIndex.positions(), prefillDone, cache, model.text().workspace(b, n), null);
    prefilledRows(n, chunk, n - 1);
    return n;
  }

  /** Prompt rows of the prefill in progress, and where the next chunk starts (for {@link PrefillBatch}). */
  Tensor pendingEmbeds() {
    return pendingEmbeds;
  }

  int prefillDone() {
    return prefillDone;
  }

  RopeIndex pendingIndex() {
    return pendingIndex;
  }

  /**
   * Records that the next {@code n} prompt positions ran (their keys and values are in the cache,
   * from {@link #prefillChunk} or {@link PrefillBatch}); after the last chunk, computes the next-token logits from row {@code lastRow}
   * of {@code hidden}, the normalised output of that pass.
   */
  void prefilledRows(int n, Tensor hidden, int lastRow) {
    prefillDone += n;
    if (prefillDone == pendingEmbeds.rows()) {
      ropeDelta = pendingIndex.ropeDelta();
      prefilled = true;
      b.copyRows(hidden, lastRow, lastHidden, 0, 1);
      model.text().logits(b, lastHidden, stepLogits);
      b.download(stepLogits, logits);
      pendingEmbeds = null;
      pendingIndex = null;
    }
  }

  /** Whether prefill has completed, so that the sequence can decode. */
  public boolean prefilled() {
    return prefilled;
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
