package dev.glance.server.cache;

import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.engine.runtime.Timings;
import dev.glance.engine.runtime.cache.BoundedCache;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The exact response cache: finished results of deterministic requests (see {@link
 * ResponseKey#deterministic}) by {@link ResponseKey}, each kept at most {@code ttl}, all together
 * at most {@code capacityBytes}; and the requests in flight, so that identical requests arriving
 * together are computed once. {@link #lookup} answers with a hit, or makes the caller the leader
 * who computes the result, or a follower who waits for the leader's. A leader that fails or is
 * cancelled publishes nothing; its followers then compute their own answers.
 */
public final class ResponseCache {

  /** What {@link #lookup} found. */
  public sealed interface Lookup {}

  /** A stored result, with engine timings zeroed: no engine work was done for this request. */
  public record Hit(GenerationResult result) implements Lookup {}

  /** Nobody computes this request yet: the caller does, and must end with {@link Leader#publish} or {@link Leader#abandon}. */
  public final class Leader implements Lookup {
    private final ResponseKey key;
    private final CompletableFuture<Optional<GenerationResult>> future;
    private final AtomicBoolean done = new AtomicBoolean();

    private Leader(ResponseKey key, CompletableFuture<Optional<GenerationResult>> future) {
      this.key = key;
      this.future = future;
    }

    /** Stores a finished result (unless it was cancelled or saw non-finite logits) and hands it to the followers. */
    public void publish(GenerationResult result) {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      boolean complete = result.finishReason() != FinishReason.CANCELLED && result.nonFiniteLogitSteps() == 0;
      if (complete) {
        entries.put(key, new Entry(result, System.nanoTime(), key.weight() + weight(result)));
      }
      inFlight.remove(key, future);
      future.complete(complete ? Optional.of(result) : Optional.empty());
    }

    /** The computation failed: followers get nothing and compute for themselves. */
    public void abandon() {
      if (done.compareAndSet(false, true)) {
        inFlight.remove(key, future);
        future.complete(Optional.empty());
      }
    }
  }

  /**
   * An identical request is being computed: {@code result} completes with its result, or empty
   * when the leader failed.
   */
  public record Follower(CompletableFuture<Optional<GenerationResult>> result) implements Lookup {}

  private record Entry(GenerationResult result, long storedNanos, long weight) {}

  private final BoundedCache<ResponseKey, Entry> entries;
  private final long ttlNanos;
  private final ConcurrentHashMap<ResponseKey, CompletableFuture<Optional<GenerationResult>>> inFlight =
      new ConcurrentHashMap<>();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  /** {@code capacityBytes} 0 disables storing (identical requests in flight are still coalesced). */
  public ResponseCache(long capacityBytes, Duration ttl) {
    if (capacityBytes < 0 || ttl.isNegative()) {
      throw new IllegalArgumentException("response cache size and TTL must be >= 0");
    }
    this.entries = new BoundedCache<>(capacityBytes, Entry::weight);
    this.ttlNanos = ttl.toNanos();
  }

  /** Finds {@code key}: a fresh stored result, an identical request in flight, or neither. */
  public Lookup lookup(ResponseKey key) {
    Optional<Entry> stored = entries.get(key);
    if (stored.isPresent()) {
      if (System.nanoTime() - stored.get().storedNanos() <= ttlNanos) {
        hits.incrementAndGet();
        return new Hit(replayed(stored.get().result()));
      }
      entries.remove(key);
    }
    CompletableFuture<Optional<GenerationResult>> mine = new CompletableFuture<>();
    CompletableFuture<Optional<GenerationResult>> theirs = inFlight.putIfAbsent(key, mine);
    if (theirs != null) {
      // Counted as a hit when the leader's result arrives; see followed().
      return new Follower(theirs);
    }
    misses.incrementAndGet();
    return new Leader(key, mine);
  }

  /** Counts a follower's outcome: a hit when it got the leader's result, a miss when it must compute. */
  public void followed(boolean gotResult) {
    (gotResult ? hits : misses).incrementAndGet();
  }

  /** Lookups answered without running the engine (stored results and coalesced followers). */
  public long hits() {
    return hits.get();
  }

  /** Lookups that ran the engine. */
  public long misses() {
    return misses.get();
  }

  public int size() {
    return entries.size();
  }

  /** The result as a cache answers it: the same text and tokens, no engine time, no vision work. */
  public static GenerationResult replayed(GenerationResult r) {
    return new GenerationResult(r.text(), r.reasoning(), r.answer(), r.tokenIds().clone(), r.promptTokens(),
        r.imageTokens(), r.finishReason(), new Timings(0, 0, 0, 0), r.imageHashes(), 0, r.nonFiniteLogitSteps(),
        0);
  }

  private static long weight(GenerationResult r) {
    return 256 + 2L * (r.text().length() + r.reasoning().length() + r.answer().length())
        + 4L * r.tokenIds().length + 80L * r.imageHashes().size();
  }
}
