package dev.glance.engine.hub;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * Transfer rate over the last few seconds, so the figure follows the link's current speed rather
 * than the average since the start. Not thread-safe: callers hold their own lock.
 */
final class RateMeter {
  private static final long WINDOW_NANOS = 5_000_000_000L;

  private record Sample(long nanos, long bytes) {}

  private final LongSupplier clock;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();

  RateMeter(LongSupplier clock) {
    this.clock = clock;
  }

  /** Records that {@code totalBytes} have been transferred so far. */
  void record(long totalBytes) {
    long now = clock.getAsLong();
    samples.addLast(new Sample(now, totalBytes));
    while (samples.size() > 2 && now - samples.peekFirst().nanos() > WINDOW_NANOS) {
      samples.removeFirst();
    }
  }

  /** Bytes per second over the window; 0 until two samples at least 100 ms apart exist. */
  double bytesPerSecond() {
    if (samples.size() < 2) {
      return 0;
    }
    Sample first = samples.peekFirst();
    Sample last = samples.peekLast();
    long dt = last.nanos() - first.nanos();
    return dt < 100_000_000L ? 0 : Math.max(0, (last.bytes() - first.bytes()) * 1e9 / dt);
  }
}
