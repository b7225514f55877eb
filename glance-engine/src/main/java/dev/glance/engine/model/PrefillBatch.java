package dev.glance.engine.model;

import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import java.util.List;

/**
 * The next prompt chunks of several sequences prefilled in one pass: their rows are stacked into
 * one activation, so each linear layer reads its weights once for all of them (and the
 * matrix-matrix kernel gets full tiles) instead of once per prompt; rotary positions, the KV write
 * and causal attention stay per sequence ({@link KvSlots.Runs}). A sequence whose prompt this
 * completes gets its next-token logits, as after {@link Sequence#prefillChunk}.
 */
public final class PrefillBatch {
  private final Glm4vModel model;
  private final Backend b;

  public PrefillBatch(Glm4vModel model) {
    this.model = model;
    this.b = model.backend();
  }

  /** Runs the next {@code counts[i]} prompt positions of {@code sequences.get(i)} for every i. */
  public void run(List<Sequence> sequences, int[] counts) {
    int n = sequences.size();
    if (counts.length != n) {
      throw new IllegalArgumentException(n + " sequences but " + counts.length + " chunk sizes");
    }
    KvCache[] caches = new KvCache[n];
    int[] starts = new int[n];
    int total = 0;
    for (int i = 0; i < n; i++) {
      Sequence s = sequences.get(i);
      if (s.pendingEmbeds() == null) {
        throw new IllegalStateException("sequence " + i + " has no prefill in progress");
      }
      if (counts[i] < 1 || counts[i] > s.prefillRemaining()) {
        throw new IllegalArgumentException("chunk of " + counts[i] + " for a prompt with " + s.prefillRemaining()
            + " positions left");
      }
      caches[i] = s.cache();
      starts[i] = s.prefillDone();
      total += counts[i];
    }
    if (n == 1) {
      // One prompt needs no stacking: its chunk runs in place, without the per-run copies.
      sequences.get(0).prefillChunk(counts[0]);
      return;
    }
    int hidden = model.config().text().hidden();
    Tensor x = b.allocate(total, hidden);
    int[][] positions = new int[3][total];
    int row = 0;
    for (int i = 0; i < n; i++) {
      Sequence s = sequences.get(i);
      b.copyRows(s.pendingEmbeds(), starts[i], x, row, counts[i]);
      int[][] p = s.pendingIndex().positions();
      for (int axis = 0; axis < 3; axis++) {
        System.arraycopy(p[axis], starts[i], positions[axis], row, counts[i]);
      }
      row += counts[i];
    }
    model.text().forwardRuns(b, x, positions, caches, starts, counts, model.text().workspace(b, total));
    row = 0;
    for (int i = 0; i < n; i++) {
      row += counts[i];
      sequences.get(i).prefilledRows(counts[i], x, row - 1);
    }
  }
}
