package dev.glance.server.inference;

import dev.glance.engine.generate.Piece;
import dev.glance.engine.runtime.GenerationResult;

/**
 * What happens to a job, in order: {@link Started} once, then {@link Output} for each piece of
 * text, then exactly one of {@link Finished} or {@link Failed}; or only {@link Dropped} when the
 * job was cancelled before it started.
 */
public sealed interface JobEvent {
  /** The engine took the job after it waited {@code queueNanos} in the queue. */
  record Started(long queueNanos) implements JobEvent {}

  /** A piece of generated text, as the engine streams it. */
  record Output(Piece piece) implements JobEvent {}

  /** Generation ended (also when cancelled while running: the finish reason says so). */
  record Finished(GenerationResult result) implements JobEvent {}

  /** Generation failed: a request the engine refused, or a fault. */
  record Failed(Throwable error) implements JobEvent {}

  /** The job was cancelled while it waited, and never ran. */
  record Dropped(CancelReason reason) implements JobEvent {}

  /** Whether no event follows this one. */
  default boolean terminal() {
    return this instanceof Finished || this instanceof Failed || this instanceof Dropped;
  }
}
