package dev.glance.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.image.ImageDecoder;
import dev.glance.engine.image.RgbImage;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The prefix KV cache in the batch scheduler: a prompt seen before prefills only past its cached
 * blocks and generates exactly the tokens of a cold run; a shared system prompt is reused on its
 * own; two different images behind identical placeholder tokens never share a block; cached blocks
 * are evicted when a request needs the room.
 */
class PrefixCacheTest {
  private static CpuBackend backend;
  private static Engine engine;
  private static Engine bf16Engine;

  @BeforeAll
  static void load() {
    backend = new CpuBackend();
    engine = Engine.load(Fixture.DIR, backend, EngineOptions.defaults());
    EngineOptions d = EngineOptions.defaults();
    bf16Engine = Engine.load(Fixture.DIR, backend, new EngineOptions(d.maxInputPixels(), d.maxInputBytes(),
        d.contextLimit(), d.quantize(), DType.BF16, d.visionCacheBytes()));
  }

  @AfterAll
  static void close() {
    engine.close();
    bf16Engine.close();
    backend.close();
  }

  private static BatchSchedulerTest.Outcome run(BatchScheduler s, GenerationRequest request) {
    BatchSchedulerTest.Outcome o = new BatchSchedulerTest.Outcome();
    s.add(request, () -> false, o);
    for (int i = 0; i < 10_000 && !s.idle(); i++) {
      s.step();
    }
    assertTrue(s.idle());
    assertNull(o.error);
    return o;
  }

  /** Most prompt tokens the cache can serve: whole blocks, the last prompt position left to compute. */
  private static int shareable(int promptTokens, int blockTokens) {
    return (promptTokens - 1) / blockTokens * blockTokens;
  }

  @Test
  void everyCaseRunTwiceGivesTheColdTokensAndTheSecondRunReusesItsWholePrefix() {
    for (Engine e : List.of(engine, bf16Engine)) {
      BatchScheduler s = new BatchScheduler(e, new BatchOptions(4, 64, 1 << 16, 16));
      assertTrue(s.prefixCaching());
      for (String name : Fixture.caseNames()) {
        GenerationResult cold = e.generate(BatchSchedulerTest.caseRequest(name), TokenSink.discard());
        GenerationResult first = run(s, BatchSchedulerTest.caseRequest(name)).result;
        GenerationResult again = run(s, BatchSchedulerTest.caseRequest(name)).result;
        String what = name + " kv " + e.model().kvType() + " block " + s.blockTokens();
        if (e == engine) {
          assertArrayEquals(Fixture.ints(name + ".greedy_ids"), first.tokenIds(), what);
        }
        assertArrayEquals(cold.tokenIds(), first.tokenIds(), what + " first");
        assertArrayEquals(cold.tokenIds(), again.tokenIds(), what + " with its prefix cached");
        assertEquals(cold.text(), again.text(), what);
        assertEquals(0, cold.cachedTokens(), "the one-request path has no prefix cache");
        assertEquals(shareable(again.promptTokens(), s.blockTokens()), again.cachedTokens(), what);
      }
      assertTrue(s.kvUsage().cachedBlocks() > 0);
      assertEquals(0, s.kvUsage().usedBlocks(), "nothing held once idle");
      assertEquals(s.totalBlocks(), s.freeBlocks());
    }
  }

  private static final String SYSTEM = "You are a careful assistant. Answer briefly and precisely, describe only what"
      + " you can see, and say when you are not sure about a detail of the picture or of the question.";

  private static GenerationRequest withSystem(String question, List<ImageInput> images) {
    ChatMessage user = images.isEmpty() ? ChatMessage.text(Role.USER, question)
        : ChatMessage.parts(Role.USER, new ContentPart.ImagePart(0), new ContentPart.TextPart(question));
    return new GenerationRequest(List.of(ChatMessage.text(Role.SYSTEM, SYSTEM), user), images, Optional.empty(),
        EngineTest.greedy12());
  }

  @Test
  void aSharedSystemPromptIsReusedAndTheAnswerIsTheColdOne() {
    BatchScheduler s = new BatchScheduler(engine, new BatchOptions(4, 64, 1 << 16, 16));
    GenerationResult a = run(s, withSystem("What colour is the sky?", List.of())).result;
    GenerationRequest second = withSystem("Name three animals that live in the sea.", List.of());
    GenerationResult b = run(s, second).result;
    GenerationResult cold = engine.generate(second, TokenSink.discard());
    int common = commonPrefix(engine.prepare(withSystem("What colour is the sky?", List.of())).ids(),
        engine.prepare(second).ids());
    assertTrue(common > s.blockTokens(), "the prompts share at least a block: " + common);
    assertEquals(common / s.blockTokens() * s.blockTokens(), b.cachedTokens(), "every whole block they share");
    assertTrue(b.cachedTokens() < b.promptTokens() - 1, "but not the question");
    assertEquals(0, a.cachedTokens());
    assertArrayEquals(cold.tokenIds(), b.tokenIds());
  }

  @Test
  void twoDifferentImagesBehindIdenticalPlaceholdersNeverShareBlocks() {
    RgbImage x = new ImageDecoder(1 << 24, 1 << 24).decode(Fixture.DIR.resolve("case2_0.png"));
    byte[] changed = x.rgb().clone();
    changed[changed.length / 2] ^= 0x40;
    RgbImage y = new RgbImage(x.width(), x.height(), changed);
    GenerationRequest askX = withSystem("What is in this picture?", List.of(new ImageInput.Decoded("x", x)));
    GenerationRequest askY = withSystem("What is in this picture?", List.of(new ImageInput.Decoded("y", y)));
    Prepared px = engine.prepare(askX);
    Prepared py = engine.prepare(askY);
    assertArrayEquals(px.ids(), py.ids(), "the prompts' tokens are identical");
    int firstImage = 0;
    while (px.ids()[firstImage] != engine.model().config().tokens().image()) {
      firstImage++;
    }
    for (Engine e : List.of(engine, bf16Engine)) {
      BatchScheduler s = new BatchScheduler(e, new BatchOptions(4, 64, 1 << 16, 16));
      int bt = s.blockTokens();
      assertTrue(firstImage >= bt, "a whole block precedes the image: " + firstImage);
      GenerationResult rx = run(s, askX).result;
      GenerationResult ry = run(s, askY).result;
      assertEquals(0, rx.cachedTokens());
      assertEquals(firstImage / bt * bt, ry.cachedTokens(), "the text before the image is shared, the image is not");
      assertArrayEquals(e.generate(askY, TokenSink.discard()).tokenIds(), ry.tokenIds(), "y answered as if cold");
      GenerationResult rx2 = run(s, askX).result;
      assertEquals(shareable(rx2.promptTokens(), bt), rx2.cachedTokens(), "x itself is still cached");
      assertArrayEquals(rx.tokenIds(), rx2.tokenIds());
    }
  }

  @Test
  void cachedBlocksMakeRoomForANewRequestAndAWaitingRequestCompletes() {
    // 64 positions, 4 blocks of 16: case0 needs 3 (27 + 12 positions), case7 all 4 (40 + 12).
    BatchScheduler s = new BatchScheduler(engine, new BatchOptions(4, 512, 64, 16));
    GenerationResult a = run(s, BatchSchedulerTest.caseRequest("case0")).result;
    assertEquals(s.blockTokens() == 16 ? 1 : 0, s.kvUsage().cachedBlocks(), "case0's one full prompt block");
    GenerationResult b = run(s, BatchSchedulerTest.caseRequest("case7")).result;
    assertArrayEquals(Fixture.ints("case7.greedy_ids"), b.tokenIds(), "ran after evicting case0's block");
    GenerationResult again = run(s, BatchSchedulerTest.caseRequest("case0")).result;
    assertEquals(0, again.cachedTokens(), "case0's block was evicted to make room for case7");
    assertArrayEquals(a.tokenIds(), again.tokenIds());
    // Two at once: the second waits for the first's blocks, then completes with the cold tokens.
    BatchSchedulerTest.Outcome first = new BatchSchedulerTest.Outcome();
    BatchSchedulerTest.Outcome second = new BatchSchedulerTest.Outcome();
    s.add(BatchSchedulerTest.caseRequest("case0"), () -> false, first);
    s.add(BatchSchedulerTest.caseRequest("case7"), () -> false, second);
    s.step();
    assertEquals(1, second.started, "prepared");
    assertNull(second.result, "waiting for blocks");
    for (int i = 0; i < 10_000 && !s.idle(); i++) {
      s.step();
    }
    assertNull(second.error);
    assertArrayEquals(a.tokenIds(), first.result.tokenIds());
    assertArrayEquals(Fixture.ints("case7.greedy_ids"), second.result.tokenIds());
    assertEquals(s.totalBlocks(), s.freeBlocks());
  }

  private static int commonPrefix(int[] a, int[] b) {
    int n = 0;
    while (n < a.length && n < b.length && a[n] == b[n]) {
      n++;
    }
    return n;
  }
}
