package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.Weight;
import java.util.ArrayList;
import java.util.List;

/**
 * The GLM-4 text decoder: token embeddings, the decoder layers with M-RoPE and a KV cache, the
 * final norm and the untied lm_head.
 */
public final class TextDecoder {
  private static final String PREFIX = "model.language_model.";

  /** Sees the hidden state after each layer (index 1..layers), before the final norm. */
  public interface LayerObserver {
    void afterLayer(int layer, Tensor hidden);
  }

  private final ModelConfig.TextConfig c;
  private final Weight embeddings;
  private final List<DecoderLayer> layers;
  private final Weight norm;
  private final Weight lmHead;
  private final MRope rope;

  TextDecoder(WeightLoader w, ModelConfig.TextConfig c) {
    this.c = c;
    embeddings = w.matrix(PREFIX + "embed_tokens.weight", c.vocabSize(), c.hidden());
    layers = new ArrayList<>();
    for (int i = 0; i < c.layers(); i++) {
      layers.add(new DecoderLayer(w, PREFIX + "layers." + i + ".", i, c));
    }
    norm = w.vector(PREFIX + "norm.weight", c.hidden());
    lmHead = w.textMatrix("lm_head.weight", c.vocabSize(), c.hidden());
    rope = new MRope(c);
  }

  public ModelConfig.TextConfig config() {
    return c;
  }

  /** Token embeddings [ids.length][hidden]. */
  public Tensor embed(Backend b, int[] ids) {
    Tensor x = b.allocate(ids.length, c.hidden());
    b.embed(embeddings, ids, x);
    return x;
  }

  /** Writes one token's embedding into row 0 of x. */
  void embedInto(Backend b, int id, Tensor x) {
    b.embed(embeddings, new int[] {id}, x);
  }

  DecoderWorkspace workspace(Backend b, int rows) {
    return new DecoderWorkspace(b, c, rows);
  }

  /**
   * Runs all layers over x (rows at cache positions [start, start + rows)), in place, ending with
   * the final norm; {@code positions} are the (3 x L) rotary positions, read from column
   * {@code start}.
   */
  void forward(Backend b, Tensor x, int[][] positions, int start, KvCache cache, DecoderWorkspace ws,
      LayerObserver observer) {
    rope.tables(positions, start, x.rows(), ws.cosHost, ws.sinHost);
    runLayers(b, x, start, cache, ws, observer);
  }

  /** A single decode step at cache index {@code start} with rotary position {@code position}. */
  void step(Backend b, Tensor x, long position, int start, KvCache cache, DecoderWorkspace ws) {
    rope.tables(position, ws.cosHost, ws.sinHost);
    runLayers(b, x, start, cache, ws, null);
  }

  /**
   * A batched decode step: row r of x is the next token of the sequence whose cache is
   * {@code caches[r]}, at cache index {@code starts[r]} and rotary position {@code positions[r]}.
   * Every linear layer runs once for all rows.
   */
  void stepRows(Backend b, Tensor x, long[] positions, int[] starts, KvCache[] caches, DecoderWorkspace ws) {
    rope.tables(positions, ws.cosHost, ws.sinHost);
    runLayers(b, x, new KvSlots.Rows(caches, starts), ws, null);
    for (int r = 0; r < caches.length; r++) {
      caches[r].setLength(starts[r] + 1);
    }
  }

  /**
   * A prefill pass over chunks of several prompts: x holds run i's {@code rows[i]} rows after those
   * of runs before it, at cache positions from {@code starts[i]} of {@code caches[i]};
   * {@code positions} are the (3 x rows) rotary positions of all of x's rows, in the same order.
   */
  void forwardRuns(Backend b, Tensor x, int[][] positions, KvCache[] caches, int[] starts, int[] rows,
      DecoderWorkspace ws) {
    rope.tables(positions, 0, x.rows(), ws.cosHost, ws.sinHost);
    runLayers(b, x, new KvSlots.Runs(caches, starts, rows), ws, null);
    for (int i = 0; i < caches.length; i++) {
      caches[i].setLength(starts[i] + rows[i]);
    }
  }

  /** Writes the embeddings of {@code ids} into the first ids.length rows of x. */
  void embedInto(Backend b, int[] ids, Tensor x) {
    b.embed(embeddings, ids, x);
  }

  private void runLayers(Backend b, Tensor x, int start, KvCache cache, DecoderWorkspace ws,
      LayerObserver observer) {
    runLayers(b, x, KvSlots.of(cache, start), ws, observer);
    cache.setLength(start + x.rows());
  }

  private void runLayers(Backend b, Tensor x, KvSlots slots, DecoderWorkspace ws, LayerObserver observer) {
    b.write(ws.cos, ws.cosHost);
    b.write(ws.sin, ws.sinHost);
    for (int i = 0; i < layers.size(); i++) {
      layers.get(i).forward(b, x, slots, ws);
      if (observer != null) {
        observer.afterLayer(i + 1, x);
      }
    }
    b.rmsNorm(x, norm, c.rmsEps(), x);
  }

  /** logits [rows][vocab] for every row of the normalised hidden state. */
  public void logits(Backend b, Tensor hidden, Tensor out) {
    b.linear(hidden, lmHead, null, out);
  }
}
