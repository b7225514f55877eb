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
   * still run once for all runs. The per-run buffers are made at the first layer and reused by
   * the others.
   */
  final class Runs implements KvSlots {
    private final KvCache[] caches;
    private final int[] starts;
    private final int[] rows;
    /** Per run: k, v (kv width) and q, out (query width); null until the first layer. */
    private Tensor[] k;
    private Tensor[] v;
    private Tensor[] q;
    private Tensor[] o;

    Runs(KvCache[] caches, int[] starts, int[] rows) {
      this.caches = caches;
      this.starts = starts;
      this.rows = rows;
    }

    @Override
    public void write(Backend b, int layer, Tensor keys, Tensor values) {
      if (k == null) {
        k = perRun(b, keys.cols());
        v = perRun(b, values.cols());
      }
      int at = 0;
      for (int i = 0; i < caches.length; i++) {
        b.copyRows(keys, at, k[i], 0, rows[i]);
        b.copyRows(values, at, v[i], 0, rows[i]);
        b.writeKv(caches[i], layer, starts[i], k[i], v[i]);
        at += rows[i];
      }
    }

    @Override
    public void attend(Backend b, int layer, Tensor queries, int heads, Tensor out) {
      if (q == null) {
        q = perRun(b, queries.cols());
        o = perRun(b, out.cols());
      }
      int at = 0;
      for (int i = 0; i < caches.length; i++) {
        b.copyRows(queries, at, q[i], 0, rows[i]);
        b.attentionCausal(q[i], caches[i], layer, starts[i], heads, o[i]);
        b.copyRows(o[i], 0, out, at, rows[i]);
        at += rows[i];
      }
    }

    /** One buffer per run: its rows by {@code cols}. */
    private Tensor[] perRun(Backend b, int cols) {
      Tensor[] t = new Tensor[caches.length];
      for (int i = 0; i < caches.length; i++) {
        t[i] = b.allocate(rows[i], cols);
      }
      return t;
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
