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
