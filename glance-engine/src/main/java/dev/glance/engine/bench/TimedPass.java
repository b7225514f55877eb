package dev.glance.engine.bench;

import java.util.function.IntConsumer;

/**
 * One timed pass of a machine-limit loop (the read loop, the FMA loop): {@code threads} platform
 * threads of their own run the body at once, each given its index, and the pass lasts until the
 * last one ends. Threads of their own, not the kernels' pool, so the loops measure the machine
 * rather than the pool.
 */
final class TimedPass {
  private TimedPass() {}

  /** Wall-clock nanoseconds from starting the first thread to the end of the last. */
  static long run(int threads, IntConsumer body, String what) {
    Thread[] ts = new Thread[threads];
    long t0 = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int id = t;
      ts[t] = Thread.ofPlatform().start(() -> body.accept(id));
    }
    for (Thread t : ts) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while measuring " + what, e);
      }
    }
    return System.nanoTime() - t0;
  }
}
