package dev.glance.engine.hub;

import java.time.Duration;

/**
 * How often a transfer is retried after a transient failure (connection dropped, stalled, 5xx,
 * 429) and how long to wait in between: the wait doubles from {@code initialBackoff} up to
 * {@code maxBackoff}. The count restarts whenever a try made progress, so a long download over a
 * flaky link survives any number of drops as long as bytes keep arriving.
 *
 * @param attempts tries in a row without progress before giving up (at least 1)
 * @param initialBackoff wait after the first failure
 * @param maxBackoff longest wait
 */
public record RetryPolicy(int attempts, Duration initialBackoff, Duration maxBackoff) {

  public RetryPolicy {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max");
    }
  }

  /** Five tries, waiting 1, 2, 4, 8 seconds in between. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(30));
  }

  /** The wait after the {@code failure}-th failure in a row (1-based). */
  public Duration backoff(int failure) {
    int doublings = Math.min(Math.max(failure - 1, 0), 30);
    Duration d = initialBackoff.multipliedBy(1L << doublings);
    return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
  }
}
