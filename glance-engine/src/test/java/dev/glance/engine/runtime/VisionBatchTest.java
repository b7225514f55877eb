package dev.glance.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Requests that start together share one vision-tower pass: each still gets exactly the
 * embeddings and tokens it gets alone, an image two of them share is encoded once, one bad
 * request fails alone, and a pass holds at most max-prefill-tokens worth of new image tokens.
 * Each test has engines of its own, so their vision caches start empty.
 */
class VisionBatchTest {
  private CpuBackend backend;
  private Engine batched;
  private Engine alone;

  @BeforeEach
  void load() {
    backend = new CpuBackend();
    batched = Engine.load(Fixture.DIR, backend, EngineOptions.defaults());
    alone = Engine.load(Fixture.DIR, backend, EngineOptions.defaults());
  }

  @AfterEach
  void close() {
    batched.close();
    alone.close();
    backend.close();
  }

  /** Queues warm-up requests first .. first + count - 1 (each its own new image). */
  private static List<BatchSchedulerTest.Outcome> submit(BatchScheduler s, int first, int count, int maxTokens) {
    List<BatchSchedulerTest.Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      BatchSchedulerTest.Outcome o = new BatchSchedulerTest.Outcome();
      outcomes.add(o);
      s.add(Warmup.request(first + i, maxTokens), () -> false, o);
    }
    return outcomes;
  }

  private float[] values(Tensor t) {
    float[] out = new float[t.rows() * t.cols()];
    backend.download(t, out);
    return out;
  }

  @Test
  void requestsPreparedTogetherGetTheEmbeddingsTheyGetAlone() {
    // Four new images, and the first one again in a fifth request.
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      requests.add(Warmup.request(20 + i, 4));
    }
    requests.add(Warmup.request(20, 4));
    List<StagedRequest> staged = requests.stream().map(batched::stage).toList();
    List<Prepared> together = batched.prepare(staged);
    assertEquals(1, batched.visionPasses(), "one pass for all five requests");
    assertEquals(4, batched.imagesEncoded(), "the repeated image encoded once");
    assertEquals(5, together.size());
    for (int i = 0; i < requests.size(); i++) {
      Prepared one = alone.prepare(requests.get(i));
      Prepared p = together.get(i);
      assertArrayEquals(one.ids(), p.ids(), "request " + i);
      // Equal within float rounding: the merger's rows of one 112x112 image (16) take the
      // few-token kernel alone and the matrix-matrix one together, which add in another order.
      float[] want = values(one.embeds());
      float[] got = values(p.embeds());
      assertEquals(want.length, got.length);
      float scale = 0;
      for (float v : want) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int k = 0; k < want.length; k++) {
        assertEquals(want[k], got[k], 1e-5f * scale, "request " + i + ": embedding value " + k);
      }
      assertTrue(p.startNanos() <= p.preprocessedNanos() && p.preprocessedNanos() <= p.encodedNanos());
    }
    assertEquals(4, alone.visionPasses(), "alone: a pass per new image, the repeat a cache hit");
  }

  @Test
  void requestsStartedInOneStepShareAPassAndAnswerAsAlone() {
    BatchScheduler s = new BatchScheduler(batched, new BatchOptions(8, 4096, 65536, 16));
    List<BatchSchedulerTest.Outcome> outcomes = submit(s, 30, 4, 6);
    s.step();
    assertEquals(1, batched.visionPasses(), "all four started in the first step, one vision pass");
    BatchSchedulerTest.runToIdle(s);
    for (int i = 0; i < 4; i++) {
      BatchSchedulerTest.Outcome o = outcomes.get(i);
      assertNull(o.error, "request " + i);
      GenerationResult expected = alone.generate(Warmup.request(30 + i, 6), TokenSink.discard());
      assertArrayEquals(expected.tokenIds(), o.result.tokenIds(), "request " + i);
      assertEquals(expected.text(), o.result.text(), "request " + i);
    }
  }

  @Test
  void aBadRequestFailsAloneAndTheOthersShareTheirPass() {
    BatchScheduler s = new BatchScheduler(batched, new BatchOptions(8, 4096, 65536, 16));
    BatchSchedulerTest.Outcome first = new BatchSchedulerTest.Outcome();
    BatchSchedulerTest.Outcome bad = new BatchSchedulerTest.Outcome();
    BatchSchedulerTest.Outcome last = new BatchSchedulerTest.Outcome();
    s.add(Warmup.request(40, 4), () -> false, first);
    ChatMessage m = ChatMessage.user(new ContentPart.ImagePart(0), new ContentPart.TextPart("What is this?"));
    GenerationRequest broken = new GenerationRequest(List.of(m),
        List.of(new ImageInput.FromBytes("broken.png", new byte[] {1, 2, 3, 4, 5, 6, 7, 8})), Optional.of(false),
        EngineTest.greedy12());
    s.add(broken, () -> false, bad);
    s.add(Warmup.request(41, 4), () -> false, last);
    s.step();
    assertInstanceOf(GlanceException.BadImage.class, bad.error);
    assertEquals(1, bad.ends);
    assertEquals(1, batched.visionPasses(), "the two good requests in one pass");
    BatchSchedulerTest.runToIdle(s);
    assertNull(first.error);
    assertNull(last.error);
    assertEquals(1, first.ends);
    assertEquals(1, last.ends);
  }

  @Test
  void aCachedImageDoesNotWaitForAnotherRequestsVisionPass() {
    BatchScheduler s = new BatchScheduler(batched, new BatchOptions(8, 4096, 65536, 16));
    submit(s, 60, 1, 2); // puts image 60 in the vision cache
    BatchSchedulerTest.runToIdle(s);
    assertEquals(1, batched.visionPasses());
    // A new image, then the cached one, queued together: the cached request is prepared, prefilled
    // and decodes its first token in the first step, with no vision pass; the new image's pass
    // is held to the next step.
    BatchSchedulerTest.Outcome fresh = submit(s, 61, 1, 3).get(0);
    BatchSchedulerTest.Outcome cached = submit(s, 60, 1, 3).get(0);
    long rowsBefore = s.decodedRows();
    s.step();
    assertEquals(1, batched.visionPasses(), "no vision pass in the step the cached request started");
    assertEquals(rowsBefore + 1, s.decodedRows(), "the cached request decoded its first token alone");
    assertEquals(2, s.running(), "the new image's request started and waits for its pass");
    s.step();
    assertEquals(2, batched.visionPasses(), "the held-back pass ran in the next step");
    BatchSchedulerTest.runToIdle(s);
    for (var pair : List.of(List.of(fresh, 61), List.of(cached, 60))) {
      BatchSchedulerTest.Outcome o = (BatchSchedulerTest.Outcome) pair.get(0);
      assertNull(o.error);
      assertEquals(1, o.ends);
      GenerationResult expected = alone.generate(Warmup.request((Integer) pair.get(1), 3), TokenSink.discard());
      assertArrayEquals(expected.tokenIds(), o.result.tokenIds());
    }
    assertEquals(1, cached.result.visionCacheHits());
    assertEquals(0, fresh.result.visionCacheHits());
    assertTrue(cached.result.timings().visionMs() < fresh.result.timings().visionMs(),
        "the cached request's vision time does not include the other's pass");
  }

  @Test
  void aRequestHeldBackForItsPassCanBeCancelledOrShutDown() {
    BatchScheduler s = new BatchScheduler(batched, new BatchOptions(8, 4096, 65536, 16));
    submit(s, 70, 1, 2);
    BatchSchedulerTest.runToIdle(s);
    java.util.concurrent.atomic.AtomicBoolean cancel = new java.util.concurrent.atomic.AtomicBoolean();
    BatchSchedulerTest.Outcome held = new BatchSchedulerTest.Outcome();
    s.add(Warmup.request(71, 3), cancel::get, held);
    BatchSchedulerTest.Outcome cached = submit(s, 70, 1, 3).get(0);
    BatchSchedulerTest.Outcome heldToo = submit(s, 72, 1, 3).get(0);
    s.step();
    assertEquals(1, batched.visionPasses(), "both new images held back");
    cancel.set(true);
    s.step(); // the cancelled one ends without its pass; the other one's pass runs
    assertEquals(1, held.ends);
    assertNull(held.error);
    assertEquals(FinishReason.CANCELLED, held.result.finishReason());
    assertEquals(2, batched.visionPasses());
    s.abortAll();
    assertEquals(1, cached.ends);
    assertEquals(1, heldToo.ends);
    assertTrue(s.idle());
    // Shut down while a request is held back: it ends, cancelled, without its pass.
    BatchSchedulerTest.Outcome last = submit(s, 73, 1, 3).get(0);
    submit(s, 70, 1, 3);
    s.step();
    assertEquals(2, batched.visionPasses());
    s.abortAll();
    assertEquals(1, last.ends);
    assertEquals(FinishReason.CANCELLED, last.result.finishReason());
    assertEquals(2, batched.visionPasses());
    assertTrue(s.idle());
  }

  @Test
  void aPassHoldsAtMostMaxPrefillTokensOfNewImages() {
    // 112x112 images are 16 image tokens each: with 20 tokens per step a pass takes two requests
    // (the second one crosses the limit), so four requests take two passes.
    BatchScheduler s = new BatchScheduler(batched, new BatchOptions(8, 20, 65536, 16));
    List<BatchSchedulerTest.Outcome> outcomes = submit(s, 50, 4, 3);
    s.step();
    assertEquals(2, batched.visionPasses());
    assertEquals(4, batched.imagesEncoded());
    BatchSchedulerTest.runToIdle(s);
    assertTrue(outcomes.stream().allMatch(o -> o.error == null && o.ends == 1));
  }
}
