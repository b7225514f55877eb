package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.io.SafetensorsFile;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `glance ask --quantize` and `--kv`: the answer survives, bad values are one-line errors. */
class AskPrecisionFlagsTest {

  private static JsonNode fixtureCase(String name) throws Exception {
    for (JsonNode c : AskCommandTest.expected().path("cases")) {
      if (c.path("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException(name);
  }

  /** The reference's greedy ids (read with an arena of our own: AskCommandTest closes its one). */
  private static int[] greedyIds(String name) {
    try (Arena arena = Arena.ofConfined()) {
      SafetensorsFile f = SafetensorsFile.open(AskCommandTest.FIXTURE.resolve("expected.safetensors"), arena);
      long[] l = f.get(name + ".greedy_ids").toLongArray();
      int[] r = new int[l.length];
      for (int i = 0; i < l.length; i++) {
        r[i] = (int) l[i];
      }
      return r;
    }
  }

  private static int[] ids(AskCommandTest.Run r) throws Exception {
    assertEquals(0, r.code(), r.err());
    return AskCommandTest.JSON.convertValue(AskCommandTest.JSON.readTree(r.out()).path("token_ids"), int[].class);
  }

  @Test
  void bf16KvCacheKeepsTheReferenceAnswer() throws Exception {
    List<String> args = new ArrayList<>(AskCommandTest.argsFor(fixtureCase("case0")));
    args.addAll(1, List.of("--kv", "bf16"));
    assertArrayEquals(greedyIds("case0"), ids(AskCommandTest.ask(args)));
  }

  @Test
  void q8WeightsKeepTheReferenceAnswerOfAnImageCase() throws Exception {
    // case1 is one of the seven cases whose greedy continuation Q8_0 keeps (QuantizedModelTest).
    List<String> args = new ArrayList<>(AskCommandTest.argsFor(fixtureCase("case1")));
    args.addAll(1, List.of("--quantize", "Q8_0"));
    assertArrayEquals(greedyIds("case1"), ids(AskCommandTest.ask(args)));
  }

  @Test
  void q4WeightsRun() throws Exception {
    List<String> args = new ArrayList<>(AskCommandTest.argsFor(fixtureCase("case1")));
    args.addAll(1, List.of("--quantize", "q4_0", "--kv", "bf16"));
    assertEquals(12, ids(AskCommandTest.ask(args)).length);
  }

  @Test
  void unknownFormatsAreRefusedNamingTheFlag() {
    for (List<String> bad : List.of(List.of("--quantize", "q5_k"), List.of("--kv", "f16"), List.of("--quantize", "bf16"))) {
      List<String> args = new ArrayList<>(List.of("ask", "--model", AskCommandTest.FIXTURE.toString()));
      args.addAll(bad);
      args.add("hi");
      AskCommandTest.Run r = AskCommandTest.ask(args);
      assertNotEquals(0, r.code());
      String err = r.err().strip();
      assertTrue(err.contains(bad.get(0)) && err.contains(bad.get(1)), err);
      assertFalse(err.contains("\tat ") || err.contains("Exception"), err);
    }
  }
}
