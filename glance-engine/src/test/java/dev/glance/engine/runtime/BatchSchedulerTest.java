package dev.glance.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batch scheduler end to end on the fixture: every case, submitted in different orders and
 * at different times to batches of different sizes, with prefill split into chunks, yields the
 * reference's greedy tokens and the same text as the one-request path.
 */
class BatchSchedulerTest {
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

  /** The fixture case as an engine request: its messages, images and template switches. */
  static GenerationRequest caseRequest(String name) {
    JsonNode c = Fixture.caseJson(name);
    List<ChatMessage> messages = new ArrayList<>();
    int image = 0;
    for (JsonNode m : c.path("messages")) {
      Role role = Role.parse(m.path("role").asText());
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        messages.add(ChatMessage.text(role, content.asText()));
        continue;
      }
      List<ContentPart> parts = new ArrayList<>();
      for (JsonNode p : content) {
        parts.add(p.path("type").asText().equals("image") ? new ContentPart.ImagePart(image++)
            : new ContentPart.TextPart(p.path("text").asText()));
      }
      messages.add(ChatMessage.parts(role, parts));
    }
    List<ImageInput> images = new ArrayList<>();
    for (JsonNode img : c.path("images")) {
      images.add(new ImageInput.FromFile(Fixture.DIR.resolve(img.path("file").asText())));
    }
    JsonNode thinking = c.path("template_kwargs").path("enable_thinking");
    Optional<Boolean> enable = thinking.isBoolean() ? Optional.of(thinking.asBoolean()) : Optional.empty();
    return new GenerationRequest(messages, images, enable, EngineTest.greedy12());
  }

  /** Collects one request's events and checks their order. */
  static final class Outcome implements BatchScheduler.Listener {
    final StringBuilder streamed = new StringBuilder();
    GenerationResult result;
    Throwable error;
    int started;
    int ends;

    @Override
    public void started(long queueNanos) {
      started++;
    }

    @Override
    public void piece(Piece piece) {
      streamed.append(piece.text());
    }

    @Override
    public void finished(GenerationResult r) {
      result = r;
      ends++;
    }

    @Override
    public void failed(Throwable e) {
      error = e;
      ends++;
    }

    @Override
    public void dropped() {
      ends++;
    }
  }

  static void runToIdle(BatchScheduler s) {
    for (int i = 0; i < 10_000 && !s.idle(); i++) {
      s.step();
    }
    assertTrue(s.idle(), "scheduler drained");
  }

  @Test
  void batchedRequestsGiveTheReferenceTokensWhateverTheArrivalOrder() {
    List<String> names = Fixture.caseNames();
    Map<String, GenerationResult> single = new LinkedHashMap<>();
    Map<String, String> singleStreamed = new LinkedHashMap<>();
    for (String name : names) {
      StringBuilder streamed = new StringBuilder();
      single.put(name, engine.generate(caseRequest(name), p -> streamed.append(p.text())));
      singleStreamed.put(name, streamed.toString());
      assertArrayEquals(Fixture.ints(name + ".greedy_ids"), single.get(name).tokenIds(), name + " single");
    }
    Random random = new Random(11);
    int[][] shapes = {{8, 4096}, {3, 16}, {5, 50}};
    for (int[] shape : shapes) {
      List<String> order = new ArrayList<>(names);
      Collections.shuffle(order, random);
      BatchScheduler s = new BatchScheduler(engine, new BatchOptions(shape[0], shape[1], 65536, 16));
      Map<String, Outcome> outcomes = new LinkedHashMap<>();
      for (String name : order) {
        Outcome o = new Outcome();
        outcomes.put(name, o);
        s.add(caseRequest(name), () -> false, o);
        // Requests arrive while others run: a step or two between arrivals.
        for (int k = random.nextInt(3); k > 0; k--) {
          s.step();
        }
      }
      runToIdle(s);
      assertTrue(s.decodedRows() > s.decodeSteps(), "some steps decoded several sequences at once");
      for (var e : outcomes.entrySet()) {
        Outcome o = e.getValue();
        String what = e.getKey() + " with batch " + shape[0] + ", prefill chunk " + shape[1] + ", order " + order;
        assertNull(o.error, what);
        assertEquals(1, o.started, what);
        assertEquals(1, o.ends, what);
        assertArrayEquals(Fixture.ints(e.getKey() + ".greedy_ids"), o.result.tokenIds(), what);
        assertEquals(single.get(e.getKey()).text(), o.result.text(), what);
        assertEquals(singleStreamed.get(e.getKey()), o.streamed.toString(), what + ": streamed text");
      }
      assertEquals(s.totalBlocks(), s.freeBlocks(), "every KV block returned (free or cached)");
    }
  }

  @Test
  void aRequestWaitsForKvBlocksAndOneThatCanNeverFitFails() {
    // 64 positions: case0 (27 + 12 = 39 positions, 3 blocks) fits once; a second waits for it.
    BatchScheduler s = new BatchScheduler(engine, new BatchOptions(4, 512, 64, 16));
    Outcome a = new Outcome();
    Outcome b = new Outcome();
    Outcome big = new Outcome();
    s.add(caseRequest("case0"), () -> false, a);
    s.add(caseRequest("case0"), () -> false, b);
    s.step();
    assertEquals(1, a.started);
    assertEquals(1, b.started, "prepared, waiting for blocks");
    assertNull(b.result);
    runToIdle(s);
    assertArrayEquals(Fixture.ints("case0.greedy_ids"), a.result.tokenIds());
    assertArrayEquals(Fixture.ints("case0.greedy_ids"), b.result.tokenIds());
    s.add(caseRequest("case1"), () -> false, big); // 126 + 12 positions > 64
    runToIdle(s);
    assertInstanceOf(GlanceException.BadRequest.class, big.error);
    assertTrue(big.error.getMessage().contains("KV budget"), big.error.getMessage());
    assertEquals(s.totalBlocks(), s.freeBlocks());
  }

  @Test
  void cancelledRequestsEndAtOnceAndOthersContinue() {
    BatchScheduler s = new BatchScheduler(engine, new BatchOptions(4, 8, 65536, 16));
    Outcome queued = new Outcome();
    Outcome running = new Outcome();
    Outcome other = new Outcome();
    boolean[] cancel = {false, false};
    s.add(caseRequest("case1"), () -> cancel[0], running);
    s.add(caseRequest("case0"), () -> false, other);
    s.step();
    s.add(caseRequest("case2"), () -> cancel[1], queued);
    cancel[0] = true;
    cancel[1] = true;
    runToIdle(s);
    assertEquals(FinishReason.CANCELLED, running.result.finishReason());
    assertEquals(0, queued.started, "never started");
    assertEquals(1, queued.ends, "dropped");
    assertArrayEquals(Fixture.ints("case0.greedy_ids"), other.result.tokenIds());
  }

  /**
   * The start-up warm-up: its synthetic requests all complete, single and batched paths run, and
   * the scheduler it leaves behind (its caches now holding the warm-up's images and prompt blocks)
   * still answers every fixture case with the reference's greedy tokens.
   */
  @Test
  void afterTheWarmUpRequestsStillGiveTheReferenceTokens() {
    BatchScheduler s = new BatchScheduler(engine, new BatchOptions(8, 4096, 65536, 16));
    Warmup.Result r = Warmup.run(s, 4);
    assertTrue(r.errors().isEmpty(), r.errors().toString());
    assertEquals(5, r.completed());
    assertTrue(s.idle());
    assertTrue(s.decodedRows() > s.decodeSteps(), "the second round decoded several sequences per step");
    assertTrue(r.nanos() > 0);

    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    for (String name : Fixture.caseNames()) {
      Outcome o = new Outcome();
      outcomes.put(name, o);
      s.add(caseRequest(name), () -> false, o);
    }
    runToIdle(s);
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
    assertFalse(Arrays.equals(ia.rgb(), ib.rgb()));
    assertNotEquals(a.messages(), b.messages());
  }
}
