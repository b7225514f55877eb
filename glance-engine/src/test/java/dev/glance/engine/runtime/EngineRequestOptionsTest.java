package dev.glance.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.image.ImageDecoder;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a request can ask of the engine beyond sampling: decoded images, max_pixels, a strict context. */
class EngineRequestOptionsTest {
  static CpuBackend backend;
  static Engine engine;

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

  static List<ChatMessage> ask(String question) {
    return List.of(ChatMessage.parts(Role.USER, new ContentPart.ImagePart(0), new ContentPart.TextPart(question)));
  }

  static SamplingParams greedy(int n) {
    return new SamplingParams(0, 1, 0, OptionalLong.empty(), 1, n, List.of(), true);
  }

  @Test
  void aDecodedImageGivesWhatItsFileGives() {
    var file = new ImageInput.FromFile(Fixture.DIR.resolve("case0_0.png"));
    var decoded = new ImageInput.Decoded("upload", new ImageDecoder().decode(Fixture.DIR.resolve("case0_0.png")));
    var a = engine.generate(new GenerationRequest(ask("What is in this picture?"), List.of(file), Optional.empty(),
        greedy(12)), TokenSink.discard());
    var b = engine.generate(new GenerationRequest(ask("What is in this picture?"), List.of(decoded), Optional.empty(),
        greedy(12)), TokenSink.discard());
    assertArrayEquals(a.tokenIds(), b.tokenIds());
    assertEquals(0, b.nonFiniteLogitSteps());
  }

  @Test
  void aLowerMaxPixelsMeansFewerImageTokens() {
    var image = List.<ImageInput>of(new ImageInput.FromFile(Fixture.DIR.resolve("case4_0.png")));
    var full = engine.generate(new GenerationRequest(ask("Describe."), image, Optional.empty(), greedy(1)),
        TokenSink.discard());
    var small = engine.generate(new GenerationRequest(ask("Describe."), image, Optional.empty(), greedy(1),
        OptionalLong.of(28 * 28 * 2 * 8), false), TokenSink.discard());
    assertEquals(117, full.imageTokens());
    assertTrue(small.imageTokens() < full.imageTokens() && small.imageTokens() > 0, small.imageTokens() + "");
    var tooSmall = assertThrows(GlanceException.BadRequest.class, () -> engine.generate(new GenerationRequest(
        ask("Describe."), image, Optional.empty(), greedy(1), OptionalLong.of(100), false), TokenSink.discard()));
    assertTrue(tooSmall.getMessage().contains("max_pixels must be at least 12544"), tooSmall.getMessage());
  }

  @Test
  void aStrictContextRefusesPromptPlusMaxTokensOverTheContext() {
    var image = List.<ImageInput>of(new ImageInput.FromFile(Fixture.DIR.resolve("case0_0.png")));
    var e = assertThrows(GlanceException.BadRequest.class, () -> engine.generate(new GenerationRequest(
        ask("What is in this picture?"), image, Optional.empty(), greedy(4080), OptionalLong.empty(), true),
        TokenSink.discard()));
    assertTrue(e.getMessage().contains("the prompt is 27 tokens and max_tokens is 4080"), e.getMessage());
    assertTrue(e.getMessage().contains("at most 4069"), e.getMessage());
    var fits = engine.generate(new GenerationRequest(ask("What is in this picture?"), image, Optional.empty(),
        greedy(3), OptionalLong.empty(), true), TokenSink.discard());
    assertEquals(3, fits.completionTokens());
  }
}
