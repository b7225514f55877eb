package dev.glance.server;

import java.time.Duration;

/**
 * How {@code glance serve} trades memory for repeated work and bounds waiting: the exact response
 * cache's size and TTL, and how long a request may wait for the engine before it is answered with
 * an error instead.
 *
 * @param responseCacheBytes bound on the response cache (0 = store nothing; identical requests in
 *     flight are still computed once)
 * @param responseCacheTtl a stored response is answered for at most this long after it was computed
 * @param queueTimeout a request the engine has not started within this time is answered 503
 *     {@code queue_timeout}
 */
public record ThroughputSettings(long responseCacheBytes, Duration responseCacheTtl, Duration queueTimeout) {
  public ThroughputSettings {
    if (responseCacheBytes < 0) {
      throw new IllegalArgumentException("response cache size must be >= 0, got " + responseCacheBytes);
    }
    if (responseCacheTtl.isNegative()) {
      throw new IllegalArgumentException("response cache TTL must be >= 0, got " + responseCacheTtl);
    }
    if (!queueTimeout.isPositive()) {
      throw new IllegalArgumentException("queue timeout must be positive, got " + queueTimeout);
    }
  }

  /** 64 MiB of responses kept for 10 minutes; a request may wait 5 minutes for the engine. */
  public static ThroughputSettings defaults() {
    return new ThroughputSettings(64L << 20, Duration.ofMinutes(10), Duration.ofMinutes(5));
  }
}
