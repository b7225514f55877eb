package dev.glance.engine.model;

import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import java.util.List;

/**
 * One decode step for several sequences at once: their next tokens are embedded as the rows of
 * one [n][hidden] activation, so every linear layer (and the lm_head) is a matrix-matrix product
 * that reads each weight once per step instead of once per sequence; rotary, the KV write and
 * attention are per row, each against its own sequence's cache and position. Buffers are kept per
 * batch size, so steady decoding allocates nothing.
 */
public final class DecodeBatch {
  private final Glm4vModel model;
  private final Backend b;
  private final int maxRows;
  private final DecoderWorkspace[] workspaces;
  private final Tensor[] hidden;
  private final Tensor[] logits;
  private float[] host = new float[0];

  public DecodeBatch(Glm4vModel model, int maxRows) {
    if (maxRows < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + maxRows);
    }
    this.model = model;
    this.b = model.backend();
    this.maxRows = maxRows;
    this.workspaces = new DecoderWorkspace[maxRows + 1];
    this.hidden = new Tensor[maxRows + 1];
    this.logits = new Tensor[maxRows + 1];
  }

  public int maxRows() {
    return maxRows;
  }

  /**
   * Appends {@code tokens[r]} to {@code sequences.get(r)} for every r and computes each one's
   * next-token logits (then in its {@link Sequence#logits()}).
   */
  public void step(List<Sequence> sequences, int[] tokens) {
    int n = sequences.size();
    if (n == 0) {
      return;
    }
    if (n > maxRows || tokens.length != n) {
      throw new IllegalArgumentException(n + " sequences and " + tokens.length + " tokens for a batch of at most "
          + maxRows);
    }
    var c = model.config().text();
    KvCache[] caches = new KvCache[n];
    int[] starts = new int[n];
    long[] positions = new long[n];
    for (int r = 0; r < n; r++) {
      Sequence s = sequences.get(r);
      if (!s.prefilled()) {
        throw new IllegalStateException("sequence " + r + " of the batch is not prefilled");
      }
      caches[r] = s.cache();
      starts[r] = caches[r].length();
      if (starts[r] >= caches[r].capacity()) {
        throw new GlanceException.BadRequest("sequence reached its capacity of " + caches[r].capacity() + " tokens");
      }
      positions[r] = (long) starts[r] + s.ropeDelta();
    }
    if (workspaces[n] == null) {
      workspaces[n] = model.text().workspace(b, n);
      hidden[n] = b.allocate(n, c.hidden());
      logits[n] = b.allocate(n, c.vocabSize());
    }
    Tensor x = hidden[n];
    model.text().embedInto(b, tokens, x);
    model.text().stepRows(b, x, positions, starts, caches, workspaces[n]);
    model.text().logits(b, x, logits[n]);
    int vocab = c.vocabSize();
    if (host.length < n * vocab) {
      host = new float[n * vocab];
    }
    b.download(logits[n], host);
    for (int r = 0; r < n; r++) {
      System.arraycopy(host, r * vocab, sequences.get(r).logits(), 0, vocab);
    }
  }
}
