package dev.glance.engine.tensor.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Runs a loop over [0, n) on one fork-join pool, split into contiguous chunks. One pool per
 * backend, so every kernel uses all cores and nothing else competes with it for threads.
 */
final class ParallelRange implements AutoCloseable {
  /** Body over a half-open chunk [from, to). */
  interface Chunk {
    void run(int from, int to);
  }

  private final ForkJoinPool pool;
  private final int threads;

  ParallelRange(int threads) {
    this.threads = Math.max(1, threads);
    this.pool = new ForkJoinPool(this.threads);
  }

  int threads() {
    return threads;
  }

  /** Runs body over [0, n) in chunks of at least {@code grain} items. */
  void forEach(int n, int grain, Chunk body) {
    if (n <= 0) {
      return;
    }
    int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, grain)));
    if (chunks == 1 || threads == 1) {
      body.run(0, n);
      return;
    }
    List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
    for (int c = 0; c < chunks; c++) {
      int from = (int) ((long) n * c / chunks);
      int to = (int) ((long) n * (c + 1) / chunks);
      tasks.add(new RecursiveAction() {
        @Override
        protected void compute() {
          body.run(from, to);
        }
      });
    }
    if (ForkJoinTask.inForkJoinPool()) {
      ForkJoinTask.invokeAll(tasks);
    } else {
      pool.submit(() -> ForkJoinTask.invokeAll(tasks)).join();
    }
  }

  @Override
  public void close() {
    pool.shutdown();
  }
}
