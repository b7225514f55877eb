package dev.glance.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine facade end to end on the fixture: caches, stop strings, cancellation. */
class EngineTest {
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

  static GenerationRequest ask(String question, SamplingParams sampling, String... files) {
    List<ContentPart> parts = new java.util.ArrayList<>();
    List<ImageInput> images = new java.util.ArrayList<>();
    for (int i = 0; i < files.length; i++) {
      parts.add(new ContentPart.ImagePart(i));
      images.add(new ImageInput.FromFile(Fixture.DIR.resolve(files[i])));
    }
    parts.add(new ContentPart.TextPart(question));
    return new GenerationRequest(List.of(ChatMessage.parts(Role.USER, parts)), images, Optional.empty(), sampling);
  }

  static SamplingParams greedy12() {
    return new SamplingParams(0, 1, 0, OptionalLong.empty(), 1, 12, List.of(), true);
  }

  @Test
  void aRepeatedImageSkipsTheVisionTowerAndAnswersTheSame() {
    long hitsBefore = engine.visionCache().hits();
    GenerationResult first = engine.generate(ask("Compare the two images.", greedy12(), "case5_0.png", "case5_1.png"),
        TokenSink.discard());
    assertArrayEquals(Fixture.ints("case5.greedy_ids"), first.tokenIds());
    GenerationResult second = engine.generate(ask("Compare the two images.", greedy12(), "case5_0.png", "case5_1.png"),
        TokenSink.discard());
    assertEquals(2, second.visionCacheHits());
    assertEquals(hitsBefore + 2, engine.visionCache().hits());
    assertArrayEquals(first.tokenIds(), second.tokenIds());
    assertEquals(first.imageHashes(), second.imageHashes());
    // One image cached, one new: a partial hit still gives the reference answer for case 0's image.
    GenerationResult partial = engine.generate(ask("What is in this picture?", greedy12(), "case0_0.png"),
        TokenSink.discard());
    assertArrayEquals(Fixture.ints("case0.greedy_ids"), partial.tokenIds());
  }

  @Test
  void differentImagesBehindIdenticalPromptsNeverShareAnEntry() {
    GenerationResult a = engine.generate(ask("What is in this picture?", greedy12(), "case0_0.png"), TokenSink.discard());
    GenerationResult b = engine.generate(ask("What is in this picture?", greedy12(), "case6_0.png"), TokenSink.discard());
    assertNotEquals(a.imageHashes(), b.imageHashes());
    assertEquals(0, b.visionCacheHits());
    assertNotEquals(List.of(a.tokenIds()), List.of(b.tokenIds()));
    assertArrayEquals(Fixture.ints("case0.greedy_ids"), a.tokenIds());
  }

  @Test
  void aStopStringEndsGenerationAndIsNotReturned() {
    GenerationResult free = engine.generate(ask("What is in this picture?", greedy12(), "case0_0.png"), TokenSink.discard());
    String text = free.text();
    String stop = text.substring(3, 6);
    var sampling = new SamplingParams(0, 1, 0, OptionalLong.empty(), 1, 12, List.of(stop), true);
    StringBuilder streamed = new StringBuilder();
    GenerationResult r = engine.generate(ask("What is in this picture?", sampling, "case0_0.png"),
        p -> streamed.append(p.text()));
    assertEquals(FinishReason.STOP, r.finishReason());
    assertEquals(text.substring(0, text.indexOf(stop)), r.text());
    assertEquals(r.text(), streamed.toString());
  }

  @Test
  void cancellationStopsBetweenDecodeSteps() {
    AtomicInteger steps = new AtomicInteger();
    GenerationResult r = engine.generate(ask("What is in this picture?", greedy12(), "case0_0.png"),
        TokenSink.discard(), () -> steps.incrementAndGet() > 4);
    assertEquals(FinishReason.CANCELLED, r.finishReason());
    assertEquals(4, r.tokenIds().length);
    assertTrue(r.timings().decodeMs() >= 0);
  }
}
