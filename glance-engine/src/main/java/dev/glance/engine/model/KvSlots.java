package dev.glance.engine.model;

import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;

/**
 * Where a decoder pass's rows keep their keys and values: consecutive positions of one sequence's
 * cache (prefill, single decode), or one position in each of several sequences' caches (a batched
 * decode step). The layers are written once against this.
 */
sealed interface KvSlots {
  void write(Backend b, int layer, Tensor k, Tensor v);

  void attend(Backend b, int layer, Tensor q, int heads, Tensor out);

  static KvSlots of(KvCache cache, int start) {
    return new Run(cache, start);
  }

  /** Rows are positions [start, start + rows) of one cache. */
  record Run(KvCache cache, int start) implements KvSlots {
    @Override
    public void write(Backend b, int layer, Tensor k, Tensor v) {
      b.writeKv(cache, layer, start, k, v);
    }

    @Override
    public void attend(Backend b, int layer, Tensor q, int heads, Tensor out) {
      b.attentionCausal(q, cache, layer, start, heads, out);
    }
  }

  /**
   * Consecutive runs of rows from several sequences (a prefill of several prompts' chunks in one
   * pass): run i is {@code rows[i]} rows at positions [starts[i], starts[i] + rows[i]) of
   * {@code caches[i]}, attending causally to its own cache only. Each run's rows are copied out,
   * handled as a one-sequence prefill, and copied back: the linear layers, which cost the most,
   * still run once for all runs.
   */
  record Runs(KvCache[] caches, int[] starts, int[] rows) implements KvSlots {
    @Override
    public void write(Backend b, int layer, Tensor k, Tensor v) {
      int at = 0;
      for (int i = 0; i < caches.length; i++) {
        Tensor ki = b.allocate(rows[i], k.cols());
        Tensor vi = b.allocate(rows[i], v.cols());
        b.copyRows(k, at, ki, 0, rows[i]);
        b.copyRows(v, at, vi, 0, rows[i]);
        b.writeKv(caches[i], layer, starts[i], ki, vi);
        at += rows[i];
      }
    }

    @Override
    public void attend(Backend b, int layer, Tensor q, int heads, Tensor out) {
      int at = 0;
      for (int i = 0; i < caches.length; i++) {
        Tensor qi = b.allocate(rows[i], q.cols());
        Tensor oi = b.allocate(rows[i], out.cols());
        b.copyRows(q, at, qi, 0, rows[i]);
        b.attentionCausal(qi, caches[i], layer, starts[i], heads, oi);
        b.copyRows(oi, 0, out, at, rows[i]);
        at += rows[i];
      }
    }
  }

  /** Row r is position {@code starts[r]} of {@code caches[r]}. */
  record Rows(KvCache[] caches, int[] starts) implements KvSlots {
    @Override
    public void write(Backend b, int layer, Tensor k, Tensor v) {
      b.writeKvRows(caches, layer, starts, k, v);
    }

    @Override
    public void attend(Backend b, int layer, Tensor q, int heads, Tensor out) {
      b.attentionRows(q, caches, layer, starts, heads, out);
    }
  }
}
