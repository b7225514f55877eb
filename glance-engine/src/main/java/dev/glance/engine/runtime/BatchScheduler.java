package dev.glance.engine.runtime;

import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.model.DecodeBatch;
import dev.glance.engine.model.Sequence;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Continuous batching over one engine: requests join a FIFO of pending work, and each {@link
 * #step} (1) starts pending requests while the batch has room and the KV budget has blocks for
 * them, (2) prefills started prompts, at most {@code maxPrefillTokens} positions per step across
 * all of them, and (3) samples a token for every sequence whose logits are ready and advances all
 * of them with one batched decode step. A finished sequence leaves the batch, and gives its KV
 * blocks back, in the step it finishes.
 *
 * <p>Not thread-safe: one thread (the engine loop) owns the scheduler, the backend and the model.
 * Image decoding, preprocessing and the vision tower run on that thread too, when a request
 * starts: the CPU backend's kernels share per-worker scratch and a thread pool, so two threads
 * must never run model code at once.
 */
public final class BatchScheduler {

  /** What happens to one request; called on the scheduler's thread, in this order. */
  public interface Listener {
    /** The request left the queue and its preparation began, after {@code queueNanos}. */
    void started(long queueNanos);

    void piece(Piece piece);

    void finished(GenerationResult result);

    /** It failed: a request the engine refused, or a fault; exactly one of finished/failed/dropped. */
    void failed(Throwable error);

    /** It was cancelled while it waited and never started. */
    void dropped();
  }

  private record Request(GenerationRequest request, BooleanSupplier cancelled, Listener listener, long queuedNanos) {}

  /** A started request: prepared, holding KV blocks, prefilling or decoding. */
  private static final class Slot {
    final Request request;
    final Prepared prepared;
    final Sequence seq;
    final Generation gen;
    final long blocks;
    long prefilledNanos;

    Slot(Request request, Prepared prepared, Sequence seq, Generation gen, long blocks) {
      this.request = request;
      this.prepared = prepared;
      this.seq = seq;
      this.gen = gen;
      this.blocks = blocks;
    }
  }

  private final Engine engine;
  private final BatchOptions options;
  private final DecodeBatch batch;
  private final Deque<Request> pending = new ArrayDeque<>();
  private final List<Slot> active = new ArrayList<>();
  /** The head of the queue, prepared, waiting for KV blocks. */
  private Request waitingFor;
  private Prepared waitingPrepared;
  private long freeBlocks;
  private long steps;
  private long batchedRows;

  public BatchScheduler(Engine engine, BatchOptions options) {
    this.engine = engine;
    this.options = options;
    this.batch = new DecodeBatch(engine.model(), options.maxBatch());
    this.freeBlocks = options.totalBlocks();
  }

  public BatchOptions options() {
    return options;
  }

  /** Queues a request; it starts in a later {@link #step}. */
  public void add(GenerationRequest request, BooleanSupplier cancelled, Listener listener) {
    pending.add(new Request(request, cancelled, listener, System.nanoTime()));
  }

  /** Whether nothing is queued or running. */
  public boolean idle() {
    return pending.isEmpty() && active.isEmpty() && waitingFor == null;
  }

  /** Requests started (prefilling or decoding). */
  public int running() {
    return active.size() + (waitingFor != null ? 1 : 0);
  }

  public int queued() {
    return pending.size();
  }

  /** KV blocks not held by any sequence. */
  public long freeBlocks() {
    return freeBlocks;
  }

  /** Batched decode steps run so far, and the rows they advanced (rows / steps = mean batch). */
  public long decodeSteps() {
    return steps;
  }

  public long decodedRows() {
    return batchedRows;
  }

  /** One scheduling iteration; returns at once when idle. */
  public void step() {
    admit();
    prefill();
    decode();
  }

  private void admit() {
    while (active.size() < options.maxBatch()) {
      Request r;
      Prepared p;
      if (waitingFor != null) {
        r = waitingFor;
        p = waitingPrepared;
        if (r.cancelled().getAsBoolean()) {
          waitingFor = null;
          waitingPrepared = null;
          r.listener().finished(engine.newGeneration(p, TokenSink.discard(), () -> true).cancelledResult(p));
          continue;
        }
      } else {
        r = pending.poll();
        if (r == null) {
          return;
        }
        if (r.cancelled().getAsBoolean()) {
          r.listener().dropped();
          continue;
        }
        r.listener().started(System.nanoTime() - r.queuedNanos());
        try {
          p = engine.prepare(r.request());
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
          r.listener().failed(e);
          continue;
        }
      }
      long blocks = (p.capacity() + options.blockTokens() - 1) / options.blockTokens();
      if (blocks > options.totalBlocks()) {
        waitingFor = null;
        waitingPrepared = null;
        r.listener().failed(new GlanceException.BadRequest("the prompt of " + p.ids().length
            + " tokens plus max_tokens " + r.request().sampling().maxTokens() + " needs " + p.capacity()
            + " KV positions, more than the server's whole KV budget of " + options.kvBudgetTokens()
            + "; lower max_tokens or shorten the prompt"));
        continue;
      }
      if (blocks > freeBlocks) {
        // Wait, prepared, at the head of the queue until finishing sequences give blocks back.
        waitingFor = r;
        waitingPrepared = p;
        return;
      }
      waitingFor = null;
      waitingPrepared = null;
      try {
        Sequence seq = engine.model().newSequence(p.capacity());
        seq.beginPrefill(p.embeds(), p.index());
        Listener l = r.listener();
        Generation gen = engine.newGeneration(p, l::piece, r.cancelled());
        freeBlocks -= blocks;
        active.add(new Slot(r, p, seq, gen, blocks));
      } catch (RuntimeException | OutOfMemoryError e) {
        r.listener().failed(e);
      }
    }
  }

  private void prefill() {
    int budget = options.maxPrefillTokens();
    for (Slot s : List.copyOf(active)) {
      if (budget <= 0) {
        return;
      }
      if (s.seq.prefillRemaining() == 0) {
        continue;
      }
      if (s.request.cancelled().getAsBoolean()) {
        // Cancelled mid-prefill: end it now (the generation reports CANCELLED).
        finish(s, s.gen.cancelledResult(s.prepared));
        continue;
      }
      try {
        budget -= s.seq.prefillChunk(budget);
        if (s.seq.prefilled()) {
          s.prefilledNanos = System.nanoTime();
        }
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
        fail(s, e);
      }
    }
  }

  private void decode() {
    List<Slot> rows = new ArrayList<>();
    List<Sequence> seqs = new ArrayList<>();
    int[] tokens = new int[active.size()];
    for (Slot s : List.copyOf(active)) {
      if (!s.seq.prefilled()) {
        continue;
      }
      int token;
      try {
        token = s.gen.next(s.seq.logits());
      } catch (RuntimeException e) {
        fail(s, e);
        continue;
      }
      if (token < 0) {
        finish(s, s.gen.result(Engine.timings(s.prepared, s.prefilledNanos, System.nanoTime())));
      } else {
        tokens[rows.size()] = token;
        rows.add(s);
        seqs.add(s.seq);
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    try {
      batch.step(seqs, java.util.Arrays.copyOf(tokens, rows.size()));
      steps++;
      batchedRows += rows.size();
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      for (Slot s : rows) {
        fail(s, e);
      }
    }
  }

  private void finish(Slot s, GenerationResult result) {
    release(s);
    s.request.listener().finished(result);
  }

  private void fail(Slot s, Throwable e) {
    release(s);
    s.request.listener().failed(e);
  }

  private void release(Slot s) {
    if (active.remove(s)) {
      freeBlocks += s.blocks;
    }
  }

  /** Ends every queued and running request as cancelled or dropped (shutdown). */
  public void abortAll() {
    Request r;
    while ((r = pending.poll()) != null) {
      r.listener().dropped();
    }
    if (waitingFor != null) {
      waitingFor.listener().finished(engine.newGeneration(waitingPrepared, TokenSink.discard(), () -> true)
          .cancelledResult(waitingPrepared));
      waitingFor = null;
      waitingPrepared = null;
    }
    for (Slot s : List.copyOf(active)) {
      finish(s, s.gen.cancelledResult(s.prepared));
    }
  }
}
