package dev.glance.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.glance.engine.GlanceException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class StopCheckerTest {

  private static final StopTokenIds GLM_EOS = StopTokenIds.of(151329, 151336, 151338);
  private static final int EOS = 151329;
  private static final int USER = 151336;

  private static SamplingParams params(int maxTokens, List<String> stop, boolean ignoreEos) {
    return new SamplingParams(0, 1, 0, OptionalLong.empty(), 1, maxTokens, stop, ignoreEos);
  }

  @Test
  void stopIdEndsWithStopAndItsTextIsNotShown() {
    StopChecker c = new StopChecker(params(100, List.of(), false), GLM_EOS, 1000);
    assertEquals(new StopChecker.Step("Hi", Optional.empty()), c.accept(1, "Hi"));
    StopChecker.Step last = c.accept(USER, "<|user|>");
    assertEquals(Optional.of(FinishReason.STOP), last.finish());
    assertEquals("", last.text());
    assertEquals("Hi", c.text());
    assertEquals(OptionalInt.of(USER), c.matchedStopId());
    assertEquals(Optional.empty(), c.matchedStopString());
    assertEquals(2, c.generated());
    assertThrows(IllegalStateException.class, () -> c.accept(1, "x"));
  }

  @Test
  void stopIdReleasesTextHeldForAStopString() {
    StopChecker c = new StopChecker(params(100, List.of("###"), false), GLM_EOS, 1000);
    assertEquals("ab", c.accept(1, "ab#").text());
    StopChecker.Step last = c.accept(EOS, "");
    assertTrue(last.finished());
    assertEquals("#", last.text());
    assertEquals("ab#", c.text());
  }

  @Test
  void ignoreEosKeepsGoingUntilMaxTokens() {
    StopChecker c = new StopChecker(params(3, List.of(), true), GLM_EOS, 1000);
    assertFalse(c.accept(EOS, "").finished());
    assertFalse(c.accept(USER, "").finished());
    StopChecker.Step last = c.accept(7, "z");
    assertEquals(Optional.of(FinishReason.LENGTH), last.finish());
    assertEquals(OptionalInt.empty(), c.matchedStopId());
  }

  @Test
  void ignoreEosStillHonoursStopStrings() {
    StopChecker c = new StopChecker(params(10, List.of("STOP"), true), GLM_EOS, 1000);
    c.accept(EOS, "go ST");
    assertEquals(Optional.of(FinishReason.STOP), c.accept(2, "OP now").finish());
    assertEquals("go ", c.text());
  }

  @Test
  void maxTokensGivesLengthAndReleasesHeldText() {
    StopChecker c = new StopChecker(params(2, List.of("</s>"), false), GLM_EOS, 1000);
    assertEquals("a", c.accept(1, "a<").text());
    StopChecker.Step last = c.accept(2, "/");
    assertEquals(Optional.of(FinishReason.LENGTH), last.finish());
    assertEquals("</", last.text());
    assertEquals("a</", c.text());
  }

  @Test
  void fullContextGivesContext() {
    StopChecker c = new StopChecker(params(100, List.of(), false), GLM_EOS, 2);
    c.accept(1, "a");
    StopChecker.Step last = c.accept(2, "b");
    assertEquals(Optional.of(FinishReason.CONTEXT), last.finish());
    assertEquals("length", FinishReason.CONTEXT.apiName());
    assertThrows(GlanceException.BadRequest.class,
        () -> new StopChecker(params(1, List.of(), false), GLM_EOS, 0));
  }

  @Test
  void stopStringWinsOverLengthOnTheSameToken() {
    StopChecker c = new StopChecker(params(2, List.of("\n\n"), false), GLM_EOS, 1000);
    c.accept(1, "x\n");
    StopChecker.Step last = c.accept(2, "\ny");
    assertEquals(Optional.of(FinishReason.STOP), last.finish());
    assertEquals("x", c.text());
    assertEquals(Optional.of("\n\n"), c.matchedStopString());
  }

  @Test
  void stopStringAcrossTokensWithStreamedTextNeverLeaking() {
    StopChecker c = new StopChecker(params(100, List.of("<|end_of_box|>"), false), GLM_EOS, 1000);
    String[] tokens = {"The", " answer", " is", " 4", "<|", "end", "_of", "_box", "|>", "junk"};
    StringBuilder streamed = new StringBuilder();
    for (String t : tokens) {
      StopChecker.Step step = c.accept(9, t);
      streamed.append(step.text());
      assertFalse(streamed.toString().contains("<"), streamed.toString());
      if (step.finished()) {
        break;
      }
    }
    assertEquals("The answer is 4", streamed.toString());
    assertEquals("The answer is 4", c.text());
    assertEquals(Optional.of(FinishReason.STOP), c.finishReason());
  }

  @Test
  void abortReleasesHeldText() {
    StopChecker c = new StopChecker(params(100, List.of("XY"), false), GLM_EOS, 1000);
    c.accept(1, "aX");
    StopChecker.Step last = c.abort(FinishReason.LENGTH);
    assertEquals("X", last.text());
    assertEquals("aX", c.text());
  }

  @Test
  void eosIdsFromGenerationConfig() throws Exception {
    ObjectMapper json = new ObjectMapper();
    StopTokenIds list = StopTokenIds.fromEosTokenId(
        json.readTree("{\"eos_token_id\": [151329, 151336, 151338, 151336]}").get("eos_token_id"));
    assertEquals(GLM_EOS, list);
    assertTrue(list.contains(151338));
    assertFalse(list.contains(151337));
    StopTokenIds single = StopTokenIds.fromEosTokenId(json.readTree("151329"));
    assertTrue(single.contains(151329));
    assertEquals(1, single.ids().length);
    assertTrue(StopTokenIds.fromEosTokenId(null).isEmpty());
    assertTrue(StopTokenIds.fromEosTokenId(json.readTree("{}").get("eos_token_id")).isEmpty());
    assertTrue(StopTokenIds.fromEosTokenId(json.readTree("null")).isEmpty());
    for (String bad : new String[] {"\"2\"", "[1, \"x\"]", "-1", "1.5", "[1, -2]"}) {
      GlanceException.ModelLoad e = assertThrows(GlanceException.ModelLoad.class,
          () -> StopTokenIds.fromEosTokenId(json.readTree(bad)));
      assertTrue(e.getMessage().contains("eos_token_id"));
    }
  }
}
