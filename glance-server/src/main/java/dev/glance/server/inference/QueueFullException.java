package dev.glance.server.inference;

import java.time.Duration;

/** Admission refused: the queue is full. {@code retryAfter} estimates when a place frees up. */
public final class QueueFullException extends RuntimeException {
  private final Duration retryAfter;

  public QueueFullException(String message, Duration retryAfter) {
    super(message, null, false, false);
    this.retryAfter = retryAfter;
  }

  public Duration retryAfter() {
    return retryAfter;
  }
}
