package dev.glance.server.inference;

import dev.glance.engine.generate.Piece;
import dev.glance.engine.runtime.BatchScheduler;
import dev.glance.engine.runtime.GenerationRequest;
import dev.glance.engine.runtime.GenerationResult;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine loop: one platform thread owns the engine and its {@link BatchScheduler}, moves
 * submitted jobs from a FIFO queue into the scheduler, and steps it, so the running requests
 * decode together as one batch while new ones are prefilled in chunks between their steps.
 * Admission is bounded by a semaphore of {@code maxBatch + queueSize} places (those running and
 * those waiting, including those still being prepared), so a burst beyond that is refused at once
 * instead of piling up decoded images in memory. A second bound, on the prompt tokens of the
 * requests waiting to start (images counted from their headers, before decoding), keeps a few
 * huge prompts from queueing hours of prefill behind a short queue length.
 */
public final class EngineWorker implements InferenceService {

  private final BatchScheduler scheduler;
  private final int batch;
  private final int places;
  private final Semaphore admission;
  private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private final Set<Job> live = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean accepting = new AtomicBoolean(true);
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicInteger runningNow = new AtomicInteger();
  private final long maxQueuedTokens;
  private final AtomicLong queuedTokens = new AtomicLong();
  private final Thread thread;
  /** Moving average of how long a job runs, for Retry-After; nanoseconds. */
  private volatile double averageRunNanos = 1e9;

  /** A worker with no bound on queued prompt tokens. */
  public EngineWorker(BatchScheduler scheduler, int queueSize) {
    this(scheduler, queueSize, 0);
  }

  /**
   * @param maxQueuedTokens most prompt tokens (estimated) of requests admitted but not started; 0
   *     = no bound. A request is refused when the waiting ones hold tokens and its own would pass
   *     the bound; one alone is always let in, so a prompt larger than the bound still runs.
   */
  public EngineWorker(BatchScheduler scheduler, int queueSize, long maxQueuedTokens) {
    if (maxQueuedTokens < 0) {
      throw new IllegalArgumentException("max queued tokens must be >= 0, got " + maxQueuedTokens);
    }
    this.maxQueuedTokens = maxQueuedTokens;
    if (queueSize < 0) {
      throw new IllegalArgumentException("queue size must be >= 0, got " + queueSize);
    }
    this.scheduler = scheduler;
    this.batch = scheduler.options().maxBatch();
    this.places = queueSize + batch;
    this.admission = new Semaphore(places);
    this.thread = Thread.ofPlatform().name("glance-engine").daemon(true).start(this::loop);
  }

  @Override
  public Reservation reserve() {
    if (!accepting.get()) {
      throw new ServiceClosedException("the server is shutting down and takes no new requests");
    }
    if (!admission.tryAcquire()) {
      throw new QueueFullException("the server is busy: " + places + " requests are already running or"
          + " waiting (--max-batch " + batch + ", --queue-size " + (places - batch) + "); retry later",
          retryAfter());
    }
    return new Held();
  }

  /** When a place is likely to free up: the queue ahead drains at about a batch per run. */
  private Duration retryAfter() {
    long waitNanos = (long) (averageRunNanos * places / batch);
    return Duration.ofSeconds(Math.clamp(TimeUnit.NANOSECONDS.toSeconds(waitNanos) + 1, 1, 300));
  }

  /** Prompt tokens (estimated) of the requests admitted and not yet started. */
  public long queuedTokens() {
    return queuedTokens.get();
  }

  private void claimTokens(long tokens, AtomicLong holder) {
    if (tokens <= 0) {
      return;
    }
    while (true) {
      long now = queuedTokens.get();
      if (maxQueuedTokens > 0 && now > 0 && now + tokens > maxQueuedTokens) {
        throw new QueueFullException("the server is busy: the waiting requests already hold " + now
            + " prompt tokens and this one needs about " + tokens + ", over --max-queued-tokens "
            + maxQueuedTokens + "; retry later", retryAfter());
      }
      if (queuedTokens.compareAndSet(now, now + tokens)) {
        holder.addAndGet(tokens);
        return;
      }
    }
  }

  private void releaseTokens(AtomicLong holder) {
    queuedTokens.addAndGet(-holder.getAndSet(0));
  }

  @Override
  public int waiting() {
    return places - admission.availablePermits() - runningNow.get();
  }

  @Override
  public int running() {
    return runningNow.get();
  }

  @Override
  public Optional<BatchScheduler.KvUsage> kvUsage() {
    return Optional.of(scheduler.kvUsage());
  }

  @Override
  public void shutdown(Duration grace) {
    accepting.set(false);
    long deadline = System.nanoTime() + grace.toNanos();
    try {
      // Admitted work may finish within the grace period: wait until every place is back.
      while (admission.availablePermits() < places && System.nanoTime() < deadline) {
        if (admission.tryAcquire(places, 50, TimeUnit.MILLISECONDS)) {
          admission.release(places);
          break;
        }
      }
      stopped.set(true);
      for (Job job : live) {
        job.cancel(CancelReason.SHUTDOWN);
      }
      queue.add(POISON);
      // A cancelled job stops at its next decode step; a long prefill may take a while yet.
      thread.join(Duration.ofSeconds(60));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final Job POISON = new Job(null);

  private void loop() {
    while (true) {
      boolean poisoned = false;
      try {
        Job job = scheduler.idle() ? queue.take() : queue.poll();
        while (job != null) {
          if (job == POISON) {
            poisoned = true;
          } else {
            add(job);
          }
          job = queue.poll();
        }
      } catch (InterruptedException e) {
        return;
      }
      if (poisoned) {
        scheduler.abortAll();
        drainQueue();
        return;
      }
      try {
        scheduler.step();
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
        // The scheduler ends requests that fail one by one; anything escaping it must not end the
        // loop, or every admitted request would hang.
        scheduler.abortAll();
      }
    }
  }

  private void drainQueue() {
    Job job;
    while ((job = queue.poll()) != null) {
      if (job != POISON) {
        job.cancel(CancelReason.SHUTDOWN);
        finish(job, new JobEvent.Dropped(CancelReason.SHUTDOWN));
      }
    }
  }

  private void add(Job job) {
    if (job.isCancelRequested()) {
      finish(job, new JobEvent.Dropped(job.cancelReason().orElseThrow()));
      return;
    }
    scheduler.add(job.request(), job::isCancelRequested, new BatchScheduler.Listener() {
      private long startNanos;

      @Override
      public void started(long queueNanos) {
        startNanos = System.nanoTime();
        releaseTokens(job.queuedTokens);
        runningNow.incrementAndGet();
        job.post(new JobEvent.Started(queueNanos));
      }

      @Override
      public void piece(Piece piece) {
        job.post(new JobEvent.Output(piece));
      }

      @Override
      public void finished(GenerationResult result) {
        end(new JobEvent.Finished(result));
      }

      @Override
      public void failed(Throwable error) {
        end(new JobEvent.Failed(error));
      }

      @Override
      public void dropped() {
        finish(job, new JobEvent.Dropped(job.cancelReason().orElse(CancelReason.SHUTDOWN)));
      }

      private void end(JobEvent event) {
        runningNow.decrementAndGet();
        averageRunNanos = 0.8 * averageRunNanos + 0.2 * (System.nanoTime() - startNanos);
        finish(job, event);
      }
    });
  }

  private void finish(Job job, JobEvent end) {
    releaseTokens(job.queuedTokens);
    live.remove(job);
    admission.release();
    job.post(end);
  }

  /** A place taken by {@link #reserve}; submitting hands it to the job. */
  private final class Held implements Reservation {
    private final AtomicBoolean used = new AtomicBoolean();
    private final AtomicLong claimed = new AtomicLong();

    @Override
    public void claimPromptTokens(long tokens) {
      if (used.get()) {
        throw new IllegalStateException("tokens are claimed before the job is submitted");
      }
      claimTokens(tokens, claimed);
    }

    @Override
    public Job submit(GenerationRequest request) {
      if (stopped.get()) {
        close();
        throw new ServiceClosedException("the server is shutting down and takes no new requests");
      }
      if (!used.compareAndSet(false, true)) {
        throw new IllegalStateException("a reservation holds one job");
      }
      Job job = new Job(request);
      job.queuedTokens.set(claimed.getAndSet(0));
      live.add(job);
      queue.add(job);
      if (stopped.get()) {
        // Shutdown began between the check and the enqueue, and the worker may be gone: end the
        // job here unless the worker took it already (it then drops it, being cancelled).
        job.cancel(CancelReason.SHUTDOWN);
        if (queue.remove(job)) {
          finish(job, new JobEvent.Dropped(CancelReason.SHUTDOWN));
        }
      }
      return job;
    }

    @Override
    public void close() {
      if (used.compareAndSet(false, true)) {
        releaseTokens(claimed);
        admission.release();
      }
    }
  }
}
