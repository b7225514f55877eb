package dev.glance.engine.tensor.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a loop over [0, n) on the backend's one set of worker threads, in chunks that the caller
 * and the workers take from a shared counter (so a core slowed by another process does less of
 * the work instead of holding everyone up). A decode step issues hundreds of small kernels, so
 * dispatch must cost microseconds: workers spin briefly for the next job before they park.
 * Calls from several threads are serialised; a call from inside a kernel runs inline.
 */
final class ParallelRange implements AutoCloseable {
  /** Body over a half-open chunk [from, to). */
  interface Chunk {
    void run(int from, int to);
  }

  /** Body over a chunk, told which participant (0 = caller, 1.. = workers) runs it. */
  interface WorkerChunk {
    void run(int worker, int from, int to);
  }

  /** How long an idle worker spins before parking: long enough to span the gap between kernels. */
  private static final long SPIN_NANOS = 200_000;

  private final int threads;
  private final Worker[] workers;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile Job job;
  private volatile boolean closed;

  ParallelRange(int threads) {
    this.threads = Math.max(1, threads);
    this.workers = new Worker[this.threads - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(i + 1);
      workers[i].thread.start();
    }
  }

  int threads() {
    return threads;
  }

  /** Runs body over [0, n) in chunks of at least {@code grain} items. */
  void forEach(int n, int grain, Chunk body) {
    forEachWorker(n, grain, (worker, from, to) -> body.run(from, to));
  }

  /** As {@link #forEach}, passing each chunk the index of the participant running it. */
  void forEachWorker(int n, int grain, WorkerChunk body) {
    if (n <= 0) {
      return;
    }
    // Many small chunks: a thread the OS preempts mid-chunk then holds up only a little work.
    int chunks = Math.min(threads * 16, Math.max(1, n / Math.max(1, grain)));
    if (chunks == 1 || threads == 1 || Thread.currentThread() instanceof WorkerThread || lock.isHeldByCurrentThread()) {
      body.run(0, 0, n);
      return;
    }
    lock.lock();
    try {
      Job j = new Job(body, n, chunks);
      job = j;
      for (Worker w : workers) {
        LockSupport.unpark(w.thread);
      }
      j.work(0);
      j.awaitCompletion();
      if (j.error != null) {
        if (j.error instanceof RuntimeException e) {
          throw e;
        }
        if (j.error instanceof Error e) {
          throw e;
        }
        throw new IllegalStateException(j.error);
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Worker w : workers) {
      LockSupport.unpark(w.thread);
    }
  }

  /**
   * One parallel loop: chunks handed out by a counter. The caller waits for every chunk to be
   * done, not for every worker to check in, so a worker the OS has not scheduled yet never holds
   * up a loop the others have finished.
   */
  private static final class Job {
    final WorkerChunk body;
    final int n;
    final int chunks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger completed = new AtomicInteger();
    final Thread caller = Thread.currentThread();
    volatile Throwable error;

    Job(WorkerChunk body, int n, int chunks) {
      this.body = body;
      this.n = n;
      this.chunks = chunks;
    }

    void work(int worker) {
      int c;
      while ((c = next.getAndIncrement()) < chunks) {
        int from = (int) ((long) n * c / chunks);
        int to = (int) ((long) n * (c + 1) / chunks);
        try {
          if (error == null) {
            body.run(worker, from, to);
          }
        } catch (Throwable t) {
          error = t;
        }
        if (completed.incrementAndGet() == chunks) {
          LockSupport.unpark(caller);
        }
      }
    }

    void awaitCompletion() {
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (completed.get() < chunks) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(this, 50_000);
        }
      }
    }
  }

  /** Marks pool threads so a nested parallel call runs inline instead of deadlocking. */
  private static final class WorkerThread extends Thread {
    WorkerThread(Runnable r, String name) {
      super(r, name);
      setDaemon(true);
    }
  }

  private final class Worker implements Runnable {
    final int index;
    final Thread thread;
    private Job last;

    Worker(int index) {
      this.index = index;
      this.thread = new WorkerThread(this, "glance-cpu-" + index);
    }

    @Override
    public void run() {
      while (!closed) {
        Job j = job;
        if (j != null && j != last) {
          last = j;
          j.work(index);
          continue;
        }
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (job == last && !closed && System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        }
        if (job == last && !closed) {
          LockSupport.park(this);
        }
      }
    }
  }
}
