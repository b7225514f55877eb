package dev.glance.server.inference;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.runtime.BatchOptions;
import dev.glance.engine.runtime.BatchScheduler;
import dev.glance.engine.runtime.Engine;
import dev.glance.engine.runtime.EngineOptions;
import dev.glance.engine.runtime.GenerationRequest;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.server.Fixture;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine loop's admission gap: requests arriving together start together. */
class EngineWorkerTest {
  private static CpuBackend backend;
  private static Engine engine;

  @BeforeAll
  static void load() {
    backend = new CpuBackend();
    engine = Engine.load(Fixture.DIR, backend, EngineOptions.defaults());
  }

  @AfterAll
  static void close() {
    engine.close();
    backend.close();
  }

  private static EngineWorker worker(int batch, Duration gap) {
    return new EngineWorker(new BatchScheduler(engine, new BatchOptions(batch, 64, 1 << 16, 16)), 4, 0, gap);
  }

  private static GenerationRequest question(String text) {
    return new GenerationRequest(List.of(ChatMessage.user(text)), List.of(), Optional.empty(), SamplingParams.greedy(2));
  }

  /** When the job started ({@link System#nanoTime}), after its events up to Started; it must then finish. */
  private static long startAndFinish(Job job, long submittedNanos) throws InterruptedException {
    long started = -1;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      JobEvent e = job.next(deadline - System.nanoTime()).orElseThrow();
      switch (e) {
        case JobEvent.Started s -> started = submittedNanos + s.queueNanos();
        case JobEvent.Finished f -> {
          assertTrue(started >= 0, "started before it finished");
          return started;
        }
        case JobEvent.Output o -> { }
        case JobEvent.Failed f -> fail(f.error());
        case JobEvent.Dropped d -> fail("dropped: " + d.reason());
      }
    }
    throw new AssertionError("no result within 60 s");
  }

  @Test
  void anIdleEngineWaitsForTheRequestsArrivingWithinTheGapAndStartsThemTogether() throws Exception {
    EngineWorker w = worker(4, Duration.ofMillis(400));
    try {
      long t0 = System.nanoTime();
      Job a = w.reserve().submit(question("first"));
      Thread.sleep(150);
      long t1 = System.nanoTime();
      Job b = w.reserve().submit(question("second"));
      Thread.sleep(150);
      long t2 = System.nanoTime();
      Job c = w.reserve().submit(question("third"));
      long startA = startAndFinish(a, t0);
      long startB = startAndFinish(b, t1);
      long startC = startAndFinish(c, t2);
      // Each came within 400 ms of the one before, so the first waited for the third.
      assertTrue(startA >= t2, "the first started " + (t2 - startA) / 1e6 + " ms before the third arrived");
      assertTrue(startB >= t2, "the second started before the third arrived");
      assertTrue(startC - t2 < TimeUnit.SECONDS.toNanos(2) + 5 * 400_000_000L, "the third waited too long");
    } finally {
      w.shutdown(Duration.ofSeconds(5));
    }
  }

  @Test
  void withoutAGapTheFirstRequestStartsAtOnce() throws Exception {
    EngineWorker w = worker(4, Duration.ZERO);
    try {
      long t0 = System.nanoTime();
      Job a = w.reserve().submit(question("first"));
      Thread.sleep(300);
      long t1 = System.nanoTime();
      Job b = w.reserve().submit(question("second"));
      long startA = startAndFinish(a, t0);
      startAndFinish(b, t1);
      assertTrue(startA < t1, "the first waited for the second although no gap was set");
    } finally {
      w.shutdown(Duration.ofSeconds(5));
    }
  }

  @Test
  void aLoneRequestWaitsOneGap() throws Exception {
    EngineWorker w = worker(4, Duration.ofMillis(200));
    try {
      long t0 = System.nanoTime();
      Job a = w.reserve().submit(question("alone"));
      long waited = startAndFinish(a, t0) - t0;
      assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(190), "waited only " + waited / 1e6 + " ms");
      assertTrue(waited < TimeUnit.MILLISECONDS.toNanos(1000) + TimeUnit.SECONDS.toNanos(2),
          "waited " + waited / 1e6 + " ms");
    } finally {
      w.shutdown(Duration.ofSeconds(5));
    }
  }

  @Test
  void aFullBatchStartsAtOnce() throws Exception {
    EngineWorker w = worker(4, Duration.ofSeconds(5));
    try {
      long t0 = System.nanoTime();
      Job a = w.reserve().submit(question("one"));
      for (int i = 0; i < 3; i++) {
        w.reserve().submit(question("more " + i));
      }
      long waited = startAndFinish(a, t0) - t0;
      assertTrue(waited < TimeUnit.SECONDS.toNanos(4), "a full batch waited " + waited / 1e6 + " ms");
    } finally {
      w.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void aStreamOfArrivalsDelaysTheStartByFiveGapsAtMost() throws Exception {
    EngineWorker w = worker(16, Duration.ofMillis(300));
    try {
      long t0 = System.nanoTime();
      Job first = w.reserve().submit(question("stream 0"));
      long last = t0;
      // One every 200 ms: the gap never closes; five gaps (1.5 s) end the wait before the last.
      for (int i = 1; i < 10; i++) {
        Thread.sleep(200);
        last = System.nanoTime();
        w.reserve().submit(question("stream " + i));
      }
      long started = startAndFinish(first, t0);
      assertTrue(started < last, "started " + (started - last) / 1e6 + " ms after the last arrival, "
          + (last - t0) / 1e6 + " ms after the first");
    } finally {
      w.shutdown(Duration.ofSeconds(20));
    }
  }
}
