package dev.glance.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TokenizerTest {
  private static Tokenizer tokenizer;

  @BeforeAll
  static void load() {
    tokenizer = Tokenizer.load(Fixtures.dir());
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static List<JsonNode> tokenizerCases() {
    return Fixtures.tokenizerCases();
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("tokenizerCases")
  void encodesExactly(JsonNode c) {
    assertArrayEquals(Fixtures.ints(c.get("ids")), tokenizer.encode(c.get("text").asText()));
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("tokenizerCases")
  void decodeRoundTrips(JsonNode c) {
    String text = c.get("text").asText();
    assertEquals(text, tokenizer.decode(Fixtures.ints(c.get("ids")), false));
  }

  @Test
  void specialTokenIdsAndVocabSize() {
    JsonNode expected = Fixtures.expected();
    assertEquals(expected.get("tokenizer_size").asInt(), tokenizer.vocabSize());
    var specials = expected.get("special_token_ids").properties();
    assertTrue(specials.size() > 10, "fixture lists special tokens");
    for (Map.Entry<String, JsonNode> e : specials) {
      assertEquals(OptionalInt.of(e.getValue().asInt()), tokenizer.tokenId(e.getKey()), e.getKey());
      assertArrayEquals(new int[] {e.getValue().asInt()}, tokenizer.encode(e.getKey()), e.getKey());
    }
    // Ordinary tokens are looked up in their byte-level spelling ("Ġ" is the space byte).
    assertEquals(OptionalInt.of(220), tokenizer.tokenId("Ġ"));
    assertEquals(OptionalInt.of(198), tokenizer.tokenId("Ċ"));
    assertEquals(OptionalInt.empty(), tokenizer.tokenId("<|no such token|>"));
  }

  @Test
  void decodeCanSkipSpecialTokens() {
    int[] ids = tokenizer.encode("[gMASK]<sop><|user|>\nhi<|assistant|>");
    assertEquals("\nhi", tokenizer.decode(ids, true));
  }

  @Test
  void addsNoSpecialTokensAndDoesNotTruncate() {
    String longText = "word ".repeat(5000);
    int[] ids = tokenizer.encode(longText);
    assertTrue(ids.length >= 5000, "not truncated: " + ids.length);
    assertEquals(longText, tokenizer.decode(ids, false));
    assertArrayEquals(new int[0], tokenizer.encode(""));
  }

  @Test
  void missingTokenizerJsonIsModelLoadNamingTheFile(@TempDir Path dir) {
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
  }

  @Test
  void malformedTokenizerJsonIsModelLoadNamingTheFile(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": ");
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Tokenizer.load(dir));
    assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());

    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\"}}");
    var e2 = assertThrows(GlanceException.ModelLoad.class, () -> Tokenizer.load(dir));
    assertTrue(e2.getMessage().contains("tokenizer.json"), e2.getMessage());
  }
}
