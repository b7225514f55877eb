package dev.glance.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

  private static SamplingParams params(
      double temperature, double topP, int topK, double penalty, int maxTokens, List<String> stop) {
    return new SamplingParams(
        temperature, topP, topK, OptionalLong.of(1), penalty, maxTokens, stop, false);
  }

  private static void assertRejected(String expectedFragment, Runnable construct) {
    GlanceException.BadRequest e = assertThrows(GlanceException.BadRequest.class, construct::run);
    assertTrue(
        e.getMessage().contains(expectedFragment),
        () -> "message '" + e.getMessage() + "' should contain '" + expectedFragment + "'");
  }

  @Test
  void greedyFactory() {
    SamplingParams p = SamplingParams.greedy(16);
    assertTrue(p.isGreedy());
    assertEquals(16, p.maxTokens());
    assertEquals(1.0, p.repetitionPenalty());
    assertEquals(List.of(), p.stop());
    assertFalse(p.ignoreEos());
    assertTrue(p.seed().isEmpty());
  }

  @Test
  void acceptsBoundaryValues() {
    params(0, 1, 0, 1, 1, List.of());
    params(100, 1e-9, 5, 1e-3, 1, List.of("x"));
  }

  @Test
  void temperatureRange() {
    assertRejected("temperature must be between 0 and 100", () -> params(-0.1, 1, 0, 1, 1, null));
    assertRejected("got 100.5", () -> params(100.5, 1, 0, 1, 1, null));
    assertRejected("temperature", () -> params(Double.NaN, 1, 0, 1, 1, null));
  }

  @Test
  void topPRange() {
    assertRejected("top_p must be greater than 0 and at most 1, got 0.0",
        () -> params(1, 0, 0, 1, 1, null));
    assertRejected("top_p", () -> params(1, 1.01, 0, 1, 1, null));
    assertRejected("top_p", () -> params(1, Double.NaN, 0, 1, 1, null));
  }

  @Test
  void topKRange() {
    assertRejected("top_k must be >= 0 (0 = off), got -1", () -> params(1, 1, -1, 1, 1, null));
  }

  @Test
  void repetitionPenaltyRange() {
    assertRejected("repetition_penalty must be a finite number greater than 0",
        () -> params(1, 1, 0, 0, 1, null));
    assertRejected("repetition_penalty", () -> params(1, 1, 0, -1.1, 1, null));
    assertRejected("repetition_penalty",
        () -> params(1, 1, 0, Double.POSITIVE_INFINITY, 1, null));
  }

  @Test
  void maxTokensRange() {
    assertRejected("max_tokens must be >= 1, got 0", () -> params(1, 1, 0, 1, 0, null));
  }

  @Test
  void stopStringsMustBeNonEmpty() {
    assertRejected("stop[1] is empty", () -> params(1, 1, 0, 1, 1, List.of("a", "")));
    assertRejected("stop[0] is null", () -> params(1, 1, 0, 1, 1, Arrays.asList((String) null)));
  }

  @Test
  void nullsBecomeEmptyAndStopListIsCopied() {
    List<String> stop = new ArrayList<>(List.of("a"));
    SamplingParams p = new SamplingParams(1, 1, 0, null, 1, 1, stop, false);
    stop.add("b");
    assertEquals(List.of("a"), p.stop());
    assertEquals(OptionalLong.empty(), p.seed());
    assertEquals(List.of(), params(1, 1, 0, 1, 1, null).stop());
    assertEquals(OptionalLong.of(7), p.withSeed(7).seed());
  }
}
