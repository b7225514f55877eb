package dev.glance.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The start-up warm-up: its synthetic requests all complete, single and batched paths run, and
 * the scheduler it leaves behind (its caches now holding the warm-up's images and prompt blocks)
 * still answers every fixture case with the reference's greedy tokens.
 */
class WarmupTest {
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

  @Test
  void warmUpCompletesAndLaterRequestsGiveTheReferenceTokens() {
    BatchScheduler s = new BatchScheduler(engine, new BatchOptions(8, 4096, 65536, 16));
    Warmup.Result r = Warmup.run(s, 4);
    assertTrue(r.errors().isEmpty(), r.errors().toString());
    assertEquals(5, r.completed());
    assertTrue(s.idle());
    assertTrue(s.decodedRows() > s.decodeSteps(), "the second round decoded several sequences per step");
    assertTrue(r.nanos() > 0);

    Map<String, BatchSchedulerTest.Outcome> outcomes = new LinkedHashMap<>();
    for (String name : Fixture.caseNames()) {
      BatchSchedulerTest.Outcome o = new BatchSchedulerTest.Outcome();
      outcomes.put(name, o);
      s.add(BatchSchedulerTest.caseRequest(name), () -> false, o);
    }
    for (int i = 0; i < 10_000 && !s.idle(); i++) {
      s.step();
    }
    assertTrue(s.idle());
    for (var e : outcomes.entrySet()) {
      assertNull(e.getValue().error, e.getKey());
      assertArrayEquals(Fixture.ints(e.getKey() + ".greedy_ids"), e.getValue().result.tokenIds(), e.getKey());
    }
  }

  @Test
  void warmUpRequestsDifferFromEachOther() {
    // Different images and prompts: no warm-up request is a cache hit of another, so each one
    // runs the vision tower and a full prefill.
    GenerationRequest a = Warmup.request(0, 4);
    GenerationRequest b = Warmup.request(1, 4);
    var ia = ((ImageInput.Decoded) a.images().get(0)).image();
    var ib = ((ImageInput.Decoded) b.images().get(0)).image();
    assertTrue(!java.util.Arrays.equals(ia.rgb(), ib.rgb()));
    assertTrue(!a.messages().equals(b.messages()));
  }
}
