package dev.glance.engine.runtime;

import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.model.DecodeBatch;
import dev.glance.engine.model.PrefillBatch;
import dev.glance.engine.model.Sequence;
import dev.glance.engine.runtime.cache.BlockKey;
import dev.glance.engine.runtime.cache.BlockPool;
import dev.glance.engine.runtime.cache.PrefixKeys;
import dev.glance.engine.tensor.KvBlocks;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Continuous batching over one engine: requests join a FIFO of pending work, and each {@link
 * #step} (1) starts pending requests while the batch has room and the KV budget has blocks for
 * them, (2) prefills started prompts, at most {@code maxPrefillTokens} positions per step across
 * all of them, and (3) samples a token for every sequence whose logits are ready and advances all
 * of them with one batched decode step. A finished sequence leaves the batch, and gives its KV
 * blocks back, in the step it finishes.
 *
 * <p>KV memory is a {@link BlockPool} of {@code kvBudgetTokens / blockTokens} blocks; a request
 * takes the blocks for its prompt plus max_tokens when it starts, or waits at the head of the queue
 * until enough are free. When the backend has paged KV storage ({@link KvBlocks}) each sequence's
 * cache is a table of those blocks, and the prefix cache is on: a prompt's full blocks are keyed
 * ({@link PrefixKeys}) and stay cached after the sequence ends, and a new prompt shares the longest
 * cached run of its leading blocks and prefills only from there. Otherwise the blocks are only
 * accounting and every sequence gets a cache of its own.
 *
 * <p>Requests that start in the same step are prepared together: each is staged (images decoded,
 * looked up in the vision cache, preprocessed; prompt tokenized), then the images none of them
 * had cached go through the vision tower in one pass ({@link Engine#prepare(List)}), as many
 * requests as the batch has room for and up to {@code maxPrefillTokens} new image tokens per
 * pass (always at least one request). When requests arrive together, as under load, the tower's
 * weights are then read and its matrices multiplied once for all their images. Requests whose
 * images are all cached do not wait for that pass: it is held to the next step (see {@link
 * #prepareNext}).
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

  /** A started request, prepared, waiting (in order) for its KV blocks. */
  private record Ready(Request request, Prepared prepared) {}

  /** A started request, staged, whose vision pass was held back to the next step. */
  private record Deferred(Request request, StagedRequest staged) {}

  /** A started request: prepared, holding KV blocks, prefilling or decoding. */
  private static final class Slot {
    final Request request;
    final Prepared prepared;
    final Sequence seq;
    final Generation gen;
    final int[] table;
    /** Keys of the prompt's full blocks, and how many of them were shared from the cache. */
    final BlockKey[] keys;
    final int shared;
    long prefilledNanos;

    Slot(Request request, Prepared prepared, Sequence seq, Generation gen, int[] table, BlockKey[] keys,
        int shared) {
      this.request = request;
      this.prepared = prepared;
      this.seq = seq;
      this.gen = gen;
      this.table = table;
      this.keys = keys;
      this.shared = shared;
    }
  }

  /** What the KV pool holds, for gauges read from other threads. */
  public record KvUsage(int blockTokens, int totalBlocks, int usedBlocks, int cachedBlocks) {}

  private final Engine engine;
  private final BatchOptions options;
  private final DecodeBatch batch;
  private final PrefillBatch prefillBatch;
  private final Deque<Request> pending = new ArrayDeque<>();
  private final int blockTokens;
  private final BlockPool pool;
  /** Paged storage behind the pool's ids; empty when the backend has none (no prefix cache). */
  private final Optional<KvBlocks> storage;
  private final boolean heapLimited;
  private final List<Slot> active = new ArrayList<>();
  /** Started and prepared, not yet holding KV blocks: the head waits until blocks are free. */
  private final Deque<Ready> ready = new ArrayDeque<>();
  /** Started and staged, their new images to be encoded in the next step (see prepareNext). */
  private final Deque<Deferred> deferred = new ArrayDeque<>();
  /** Whether this step held a vision pass back: no further pass runs in it. */
  private boolean heldBack;
  private long steps;
  private long batchedRows;

  public BatchScheduler(Engine engine, BatchOptions options) {
    this.engine = engine;
    this.options = options;
    this.batch = new DecodeBatch(engine.model(), options.maxBatch());
    this.prefillBatch = new PrefillBatch(engine.model());
    this.storage = engine.model().kvBlocks(options.blockTokens());
    this.blockTokens = storage.map(KvBlocks::blockTokens).orElse(options.blockTokens());
    long blocks = options.kvBudgetTokens() / blockTokens;
    if (blocks < 1) {
      throw new IllegalArgumentException("KV budget " + options.kvBudgetTokens() + " is less than one block of "
          + blockTokens + " positions");
    }
    // Paged blocks live on the Java heap and, with the prefix cache, stay there once used: a
    // budget larger than the heap would end in an OutOfMemoryError after enough distinct prompts,
    // so the pool is held to half the heap (the rest for activations and requests).
    long heapBlocks = storage.map(s -> Runtime.getRuntime().maxMemory() / 2 / s.blockBytes()).orElse(Long.MAX_VALUE);
    this.heapLimited = heapBlocks < blocks;
    this.pool = new BlockPool(Math.toIntExact(Math.max(1, Math.min(Math.min(blocks, heapBlocks),
        Integer.MAX_VALUE - 8))));
  }

  /** Whether the pool holds fewer blocks than the KV budget asks for, to fit half the Java heap. */
  public boolean heapLimited() {
    return heapLimited;
  }

  /** Bytes of one KV block where the blocks are paged storage; 0 otherwise. */
  public long blockBytes() {
    return storage.map(KvBlocks::blockBytes).orElse(0L);
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
    return pending.isEmpty() && active.isEmpty() && ready.isEmpty() && deferred.isEmpty();
  }

  /** Requests started (being prepared, prefilling or decoding). */
  public int running() {
    return active.size() + ready.size() + deferred.size();
  }

  public int queued() {
    return pending.size();
  }

  /** KV blocks not held by any sequence (free, or cached and evictable). */
  public long freeBlocks() {
    return pool.available();
  }

  /** Positions per KV block (the backend may round the configured size up to its kernel's tile). */
  public int blockTokens() {
    return blockTokens;
  }

  public long totalBlocks() {
    return pool.total();
  }

  /** Whether prompts share cached prefix blocks (asked for, and the backend has paged KV storage). */
  public boolean prefixCaching() {
    return options.prefixCache() && storage.isPresent();
  }

  /** The pool's state now; safe to call from any thread (the counts may be a step old). */
  public KvUsage kvUsage() {
    return new KvUsage(blockTokens, pool.total(), pool.used(), pool.cached());
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
    heldBack = false;
    admit();
    prefill();
    decode();
  }

  private void admit() {
    while (active.size() < options.maxBatch()) {
      if (ready.isEmpty() && !prepareNext()) {
        return;
      }
      if (ready.isEmpty()) {
        continue; // every request prepared just now failed; more are queued
      }
      Ready head = ready.peek();
      Request r = head.request();
      Prepared p = head.prepared();
      if (r.cancelled().getAsBoolean()) {
        ready.poll();
        r.listener().finished(engine.newGeneration(p, 0, TokenSink.discard(), () -> true).cancelledResult(p));
        continue;
      }
      int blocks = (p.capacity() + blockTokens - 1) / blockTokens;
      if (blocks > pool.total()) {
        ready.poll();
        r.listener().failed(new GlanceException.BadRequest("the prompt of " + p.ids().length
            + " tokens plus max_tokens " + r.request().sampling().maxTokens() + " needs " + p.capacity()
            + " KV positions, more than the server's whole KV budget of " + options.kvBudgetTokens()
            + "; lower max_tokens or shorten the prompt"));
        continue;
      }
      BlockKey[] keys = prefixCaching() ? prefixKeys(p) : new BlockKey[0];
      // Share whole cached blocks only, and leave at least the last prompt position to compute:
      // its logits start the generation.
      int[] shared = pool.match(keys, (p.ids().length - 1) / blockTokens);
      int[] table = pool.allocate(shared, blocks - shared.length);
      if (table == null) {
        // Wait, prepared, at the head of the line until finishing sequences give blocks back.
        return;
      }
      ready.poll();
      try {
        Sequence seq = storage.isPresent()
            ? engine.model().newSequence(storage.get(), table, p.capacity())
            : engine.model().newSequence(p.capacity());
        int cached = shared.length * blockTokens;
        seq.beginPrefill(p.embeds(), p.index(), cached);
        Listener l = r.listener();
        Generation gen = engine.newGeneration(p, cached, l::piece, r.cancelled());
        active.add(new Slot(r, p, seq, gen, table, keys, shared.length));
      } catch (RuntimeException | OutOfMemoryError e) {
        pool.release(table);
        r.listener().failed(e);
      }
    }
  }

  /**
   * Starts queued requests, as many as the batch has room for and until their new images come to
   * maxPrefillTokens image tokens, and prepares them together into {@link #ready}; false when
   * nothing was queued. A request whose staging fails (a bad image, a prompt too long) fails
   * alone; if the shared vision pass fails, each is retried alone so only the culprit fails.
   *
   * <p>Requests whose images are all in the vision cache (or that have none) need no pass: when
   * others started with them do, they are prepared at once and the others are held to the next
   * step ({@link #deferred}, first in line there), so a cache hit does not wait for the images of
   * requests started with it. A request is held back only once: one held back before goes into
   * the next pass whoever starts with it.
   */
  private boolean prepareNext() {
    if (heldBack) {
      return false; // the held-back pass runs in the next step, after this one's prefill
    }
    int room = options.maxBatch() - active.size();
    int merge = engine.model().config().vision().spatialMergeSize();
    long imageTokens = 0;
    List<Request> started = new ArrayList<>();
    List<StagedRequest> staged = new ArrayList<>();
    boolean anyHeldBefore = false;
    while (!deferred.isEmpty() && staged.size() < room && imageTokens < options.maxPrefillTokens()) {
      Deferred d = deferred.poll();
      if (d.request().cancelled().getAsBoolean()) {
        endCancelled(d);
        continue;
      }
      started.add(d.request());
      staged.add(d.staged());
      imageTokens += d.staged().vision().missingPatches() / (merge * merge);
      anyHeldBefore = true;
    }
    while (staged.size() < room && imageTokens < options.maxPrefillTokens()) {
      Request r = pending.poll();
      if (r == null) {
        break;
      }
      if (r.cancelled().getAsBoolean()) {
        r.listener().dropped();
        continue;
      }
      r.listener().started(System.nanoTime() - r.queuedNanos());
      try {
        StagedRequest s = engine.stage(r.request());
        started.add(r);
        staged.add(s);
        imageTokens += s.vision().missingPatches() / (merge * merge);
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
        r.listener().failed(e);
      }
    }
    if (staged.isEmpty()) {
      return false; // the queue ran dry: every request taken was dropped or failed
    }
    long needPass = staged.stream().filter(s -> s.vision().missingPatches() > 0).count();
    if (!anyHeldBefore && needPass > 0 && needPass < staged.size()) {
      List<Request> now = new ArrayList<>();
      List<StagedRequest> nowStaged = new ArrayList<>();
      for (int i = 0; i < staged.size(); i++) {
        if (staged.get(i).vision().missingPatches() > 0) {
          deferred.add(new Deferred(started.get(i), staged.get(i)));
        } else {
          now.add(started.get(i));
          nowStaged.add(staged.get(i));
        }
      }
      started = now;
      staged = nowStaged;
      heldBack = true;
    }
    try {
      List<Prepared> prepared = engine.prepare(staged);
      for (int i = 0; i < prepared.size(); i++) {
        ready.add(new Ready(started.get(i), prepared.get(i)));
      }
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      if (staged.size() == 1) {
        started.get(0).listener().failed(e);
      } else {
        for (int i = 0; i < staged.size(); i++) {
          try {
            ready.add(new Ready(started.get(i), engine.prepare(List.of(staged.get(i))).get(0)));
          } catch (RuntimeException | OutOfMemoryError | StackOverflowError alone) {
            started.get(i).listener().failed(alone);
          }
        }
      }
    }
    return !ready.isEmpty() || !pending.isEmpty();
  }

  /**
   * Prefills started prompts, at most maxPrefillTokens positions in all, oldest first. The chunks
   * of several prompts run as one pass ({@link PrefillBatch}): the weights are read once for all
   * of them, which is most of a prefill's cost when many requests arrive together.
   */
  private void prefill() {
    int budget = options.maxPrefillTokens();
    List<Slot> slots = new ArrayList<>();
    List<Sequence> seqs = new ArrayList<>();
    int[] counts = new int[active.size()];
    for (Slot s : List.copyOf(active)) {
      if (budget <= 0) {
        break;
      }
      if (s.seq.prefillRemaining() == 0) {
        continue;
      }
      if (s.request.cancelled().getAsBoolean()) {
        // Cancelled mid-prefill: end it now (the generation reports CANCELLED).
        finish(s, s.gen.cancelledResult(s.prepared));
        continue;
      }
      int n = Math.min(budget, s.seq.prefillRemaining());
      counts[slots.size()] = n;
      slots.add(s);
      seqs.add(s.seq);
      budget -= n;
    }
    if (slots.isEmpty()) {
      return;
    }
    try {
      prefillBatch.run(seqs, java.util.Arrays.copyOf(counts, slots.size()));
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      for (Slot s : slots) {
        fail(s, e);
      }
      return;
    }
    for (Slot s : slots) {
      if (s.seq.prefilled()) {
        s.prefilledNanos = System.nanoTime();
        // The prompt's full blocks now hold their KV: offer them to later prompts.
        for (int i = s.shared; i < s.keys.length; i++) {
          pool.register(s.table[i], s.keys[i]);
        }
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
      pool.release(s.table);
    }
  }

  /** Ends every queued and running request as cancelled or dropped (shutdown). */
  public void abortAll() {
    Request r;
    while ((r = pending.poll()) != null) {
      r.listener().dropped();
    }
    Deferred d;
    while ((d = deferred.poll()) != null) {
      endCancelled(d);
    }
    Ready w;
    while ((w = ready.poll()) != null) {
      w.request().listener().finished(engine.newGeneration(w.prepared(), 0, TokenSink.discard(), () -> true)
          .cancelledResult(w.prepared()));
    }
    for (Slot s : List.copyOf(active)) {
      finish(s, s.gen.cancelledResult(s.prepared));
    }
  }

  /** Ends a request held back for its vision pass, cancelled, without running the pass. */
  private void endCancelled(Deferred d) {
    Prepared p = engine.withoutEmbeddings(d.staged());
    d.request().listener().finished(engine.newGeneration(p, 0, TokenSink.discard(), () -> true).cancelledResult(p));
  }

  private BlockKey[] prefixKeys(Prepared p) {
    return PrefixKeys.of(p.ids(), engine.model().config().tokens().image(), p.imageKeys(), p.imageTokenCounts(),
        blockTokens);
  }
}
