package dev.glance.engine.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TokenStreamDecoderTest {
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

  /** Feeds ids one by one; returns the pieces, the last one from finish(). */
  private static List<String> stream(int[] ids, boolean skipSpecial) {
    TokenStreamDecoder decoder = tokenizer.streamDecoder(skipSpecial);
    List<String> pieces = new ArrayList<>();
    for (int id : ids) {
      pieces.add(decoder.push(id));
    }
    pieces.add(decoder.finish());
    return pieces;
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("tokenizerCases")
  void piecesConcatenateToFullDecode(JsonNode c) {
    int[] ids = Fixtures.ints(c.get("ids"));
    for (boolean skip : new boolean[] {false, true}) {
      List<String> pieces = stream(ids, skip);
      assertEquals(tokenizer.decode(ids, skip), String.join("", pieces));
      // Every fixture text is valid UTF-8, so nothing incomplete may ever be emitted...
      for (String piece : pieces) {
        assertFalse(piece.contains("\uFFFD"), "emitted a partial character: " + pieces);
      }
      // ...and nothing is left for finish().
      assertEquals("", pieces.getLast());
    }
  }

  @Test
  void holdsBackSplitEmojiUntilComplete() {
    // "🙂🚀 emoji" is ids 301 (F0 9F), 459 (99 82 F0 9F), 460 (9A 80): both emoji are split, and
    // 459 completes 🙂 while starting 🚀, so nothing is complete until 460.
    int[] ids = tokenizer.encode("\uD83D\uDE42\uD83D\uDE80 emoji");
    assertEquals(301, ids[0]);
    TokenStreamDecoder decoder = tokenizer.streamDecoder(false);
    assertEquals("", decoder.push(ids[0]));
    assertEquals("", decoder.push(ids[1]));
    assertEquals("\uD83D\uDE42\uD83D\uDE80", decoder.push(ids[2]));
    StringBuilder rest = new StringBuilder();
    for (int i = 3; i < ids.length; i++) {
      rest.append(decoder.push(ids[i]));
    }
    assertEquals(" emoji", rest.toString());
    assertEquals("", decoder.finish());
  }

  @Test
  void cjkTextStreamsCharacterByCharacter() {
    String text = "请详细描述这张图片的内容,特别是文字部分。";
    int[] ids = tokenizer.encode(text);
    List<String> pieces = stream(ids, false);
    assertEquals(text, String.join("", pieces));
    for (String piece : pieces) {
      assertFalse(piece.contains("\uFFFD"));
    }
  }

  /** The reference greedy continuations contain invalid UTF-8; finish() must flush it. */
  @Test
  void greedyContinuationsIncludingBrokenBytes() throws IOException {
    int withReplacement = 0;
    for (JsonNode c : Fixtures.cases()) {
      int[] ids = dev.glance.engine.Fixture.ints(c.get("name").asText() + ".greedy_ids");
      String full = tokenizer.decode(ids, false);
      assertEquals(c.get("greedy_text").asText(), full, "fixture greedy_text");
      assertEquals(full, String.join("", stream(ids, false)), c.get("name").asText());
      assertEquals(tokenizer.decode(ids, true), String.join("", stream(ids, true)));
      if (full.contains("\uFFFD")) {
        withReplacement++;
      }
    }
    assertTrue(withReplacement > 0, "fixture exercises broken UTF-8");
  }

  @Test
  void idsAreRecorded() {
    TokenStreamDecoder decoder = tokenizer.streamDecoder(false);
    decoder.push(39);
    decoder.push(68);
    assertEquals(2, decoder.ids().length);
    assertEquals(39, decoder.ids()[0]);
  }
}
