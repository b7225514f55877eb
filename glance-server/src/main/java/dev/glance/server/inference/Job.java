package dev.glance.server.inference;

import dev.glance.engine.runtime.GenerationRequest;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One request's generation as the service runs it: the engine thread posts {@link JobEvent}s, the
 * request's own thread reads them with {@link #next}, and either side may {@link #cancel} it. The
 * engine never writes to a network connection, so a slow client cannot stall it.
 */
public final class Job {
  private final GenerationRequest request;
  private final long submittedNanos = System.nanoTime();
  private final BlockingQueue<JobEvent> events = new LinkedBlockingQueue<>();
  private final AtomicReference<CancelReason> cancelled = new AtomicReference<>();
  /** Prompt tokens this job holds in its service's queued-token count until it starts or ends. */
  final AtomicLong queuedTokens = new AtomicLong();

  Job(GenerationRequest request) {
    this.request = request;
  }

  public GenerationRequest request() {
    return request;
  }

  /** When the job was queued ({@link System#nanoTime}). */
  public long submittedNanos() {
    return submittedNanos;
  }

  /** Asks the engine to stop this job at its next decode step; the first reason given wins. */
  public void cancel(CancelReason reason) {
    cancelled.compareAndSet(null, reason);
  }

  public Optional<CancelReason> cancelReason() {
    return Optional.ofNullable(cancelled.get());
  }

  /** Whether anyone asked to cancel this job (it may still be running until its next step). */
  public boolean isCancelRequested() {
    return cancelled.get() != null;
  }

  void post(JobEvent event) {
    events.add(event);
  }

  /** The next event, waiting at most {@code timeoutNanos}; empty when none came in time. */
  public Optional<JobEvent> next(long timeoutNanos) throws InterruptedException {
    return Optional.ofNullable(events.poll(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS));
  }
}
