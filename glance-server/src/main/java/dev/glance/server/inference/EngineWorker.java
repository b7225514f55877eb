package dev.glance.server.inference;

import dev.glance.engine.runtime.GenerationRequest;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.engine.runtime.TokenSink;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The engine runs one sequence at a time, so one platform thread owns it and takes jobs from a
 * FIFO queue. Admission is bounded by a semaphore of {@code queueSize + 1} places (the one running
 * and those waiting, including those still being prepared), so a burst beyond that is refused at
 * once instead of piling up decoded images in memory.
 */
public final class EngineWorker implements InferenceService {

  /** The engine's generate call: {@code Engine::generate} in production. */
  @FunctionalInterface
  public interface Generator {
    GenerationResult generate(GenerationRequest request, TokenSink sink, BooleanSupplier cancelled);
  }

  private final Generator generator;
  private final int places;
  private final Semaphore admission;
  private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private final Set<Job> live = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean accepting = new AtomicBoolean(true);
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicInteger runningNow = new AtomicInteger();
  private final Thread thread;
  /** Moving average of how long a job runs, for Retry-After; nanoseconds. */
  private volatile double averageRunNanos = 1e9;

  public EngineWorker(Generator generator, int queueSize) {
    if (queueSize < 0) {
      throw new IllegalArgumentException("queue size must be >= 0, got " + queueSize);
    }
    this.generator = generator;
    this.places = queueSize + 1;
    this.admission = new Semaphore(places);
    this.thread = Thread.ofPlatform().name("glance-engine").daemon(true).start(this::loop);
  }

  @Override
  public Reservation reserve() {
    if (!accepting.get()) {
      throw new ServiceClosedException("the server is shutting down and takes no new requests");
    }
    if (!admission.tryAcquire()) {
      long waitNanos = (long) (averageRunNanos * places);
      Duration retry = Duration.ofSeconds(Math.clamp(TimeUnit.NANOSECONDS.toSeconds(waitNanos) + 1, 1, 300));
      throw new QueueFullException("the server is busy: " + places + " requests are already running or"
          + " waiting (--queue-size " + (places - 1) + "); retry later", retry);
    }
    return new Held();
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
      Job job;
      try {
        job = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (job == POISON) {
        drainQueue();
        return;
      }
      run(job);
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

  private void run(Job job) {
    if (job.isCancelRequested()) {
      finish(job, new JobEvent.Dropped(job.cancelReason().orElseThrow()));
      return;
    }
    long start = System.nanoTime();
    job.post(new JobEvent.Started(start - job.submittedNanos()));
    runningNow.incrementAndGet();
    JobEvent end;
    try {
      GenerationResult result = generator.generate(job.request(),
          piece -> job.post(new JobEvent.Output(piece)), job::isCancelRequested);
      end = new JobEvent.Finished(result);
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      // One request's failure, even running out of memory on a huge image, must not end the worker.
      end = new JobEvent.Failed(e);
    } finally {
      runningNow.decrementAndGet();
    }
    averageRunNanos = 0.8 * averageRunNanos + 0.2 * (System.nanoTime() - start);
    finish(job, end);
  }

  private void finish(Job job, JobEvent end) {
    live.remove(job);
    admission.release();
    job.post(end);
  }

  /** A place taken by {@link #reserve}; submitting hands it to the job. */
  private final class Held implements Reservation {
    private final AtomicBoolean used = new AtomicBoolean();

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
        admission.release();
      }
    }
  }
}
