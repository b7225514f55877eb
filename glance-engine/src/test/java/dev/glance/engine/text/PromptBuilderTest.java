package dev.glance.engine.text;

import dev.glance.engine.image.ImageGrid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PromptBuilderTest {
  private static Tokenizer tokenizer;
  private static PromptBuilder builder;
  private static int imageTokenId;

  @BeforeAll
  static void load() throws IOException {
    tokenizer = Tokenizer.load(Fixtures.dir());
    JsonNode config = Fixtures.readJson(Fixtures.dir().resolve("config.json"));
    imageTokenId = config.get("image_token_id").asInt();
    int merge = config.get("vision_config").get("spatial_merge_size").asInt();
    builder = new PromptBuilder(tokenizer, ChatTemplate.load(Fixtures.dir()), imageTokenId, merge);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static List<JsonNode> cases() {
    return Fixtures.cases();
  }

  private static List<ImageGrid> grids(JsonNode c) {
    String name = c.get("name").asText() + ".image_grid_thw";
    List<ImageGrid> out = new ArrayList<>();
    if (c.get("images").isEmpty()) {
      return out;
    }
    long[] thw = dev.glance.engine.Fixture.tensor(name).toLongArray();
    assertEquals(c.get("images").size(), dev.glance.engine.Fixture.tensor(name).shape()[0]);
    for (int i = 0; i < thw.length; i += 3) {
      out.add(new ImageGrid((int) thw[i], (int) thw[i + 1], (int) thw[i + 2]));
    }
    return out;
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("cases")
  void inputIdsMatchReference(JsonNode c) {
    String name = c.get("name").asText();
    EncodedPrompt p = builder.build(Fixtures.chatMessages(c), Fixtures.templateKwargs(c), grids(c));
    assertEquals(c.get("prompt").asText(), p.text());
    assertArrayEquals(dev.glance.engine.Fixture.ints(name + ".input_ids"), p.inputIds());
    assertEquals(c.get("seq_len").asInt(), p.length());
    assertEquals(c.get("image_tokens").asInt(), p.imageTokenCount());
    assertEquals(
        c.get("image_tokens").asInt(), Arrays.stream(p.inputIds()).filter(id -> id == imageTokenId).count());
    int[] inOrder = new int[c.get("images").size()];
    Arrays.setAll(inOrder, i -> i);
    assertArrayEquals(inOrder, p.imageOrder());
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("cases")
  void renderedPromptEncodesTheSame(JsonNode c) {
    String name = c.get("name").asText();
    EncodedPrompt p = builder.encodeRendered(c.get("prompt").asText(), grids(c));
    assertArrayEquals(dev.glance.engine.Fixture.ints(name + ".input_ids"), p.inputIds());
  }

  @Test
  void tooFewOrTooManyImagesIsBadRequest() {
    var msg = List.of(ChatMessage.user(ContentPart.image(0), ContentPart.text("what?")));
    var grid = new ImageGrid(1, 4, 4);
    var none = assertThrows(GlanceException.BadRequest.class, () -> builder.build(msg, Map.of(), List.of()));
    assertTrue(none.getMessage().contains("image"), none.getMessage());
    assertThrows(
        GlanceException.BadRequest.class, () -> builder.build(msg, Map.of(), List.of(grid, grid)));
    // A rendered prompt whose placeholder count disagrees with the images.
    var e =
        assertThrows(
            GlanceException.BadRequest.class,
            () -> builder.encodeRendered("[gMASK]<sop><|user|>\nhi<|assistant|>", List.of(grid)));
    assertTrue(e.getMessage().contains("0 image placeholder"), e.getMessage());
  }

  @Test
  void imageTokenTypedInTextIsBadRequest() {
    var msg = List.of(ChatMessage.user("look: <|image|>"));
    assertThrows(GlanceException.BadRequest.class, () -> builder.build(msg, Map.of(), List.of()));
  }

  @Test
  void imagePartsMayReferToImagesOutOfOrder() {
    var a = new ImageGrid(1, 2, 2); // 1 token
    var b = new ImageGrid(1, 4, 6); // 6 tokens
    var messages =
        List.of(ChatMessage.user(ContentPart.image(1), ContentPart.image(0), ContentPart.text("x")));
    EncodedPrompt p = builder.build(messages, Map.of(), List.of(a, b));
    assertArrayEquals(new int[] {1, 0}, p.imageOrder());
    assertEquals(7, p.imageTokenCount());
    // The first placeholder (image 1) expands to 6 tokens, the second (image 0) to 1.
    int[] ids = p.inputIds();
    int first = Arrays.stream(ids).boxed().toList().indexOf(imageTokenId);
    for (int i = 0; i < 6; i++) {
      assertEquals(imageTokenId, ids[first + i]);
    }
    assertTrue(ids[first + 6] != imageTokenId);
    assertEquals(imageTokenId, ids[first + 8]); // after <|end_of_image|><|begin_of_image|>
    assertTrue(ids[first + 9] != imageTokenId);

    var dup = List.of(ChatMessage.user(ContentPart.image(0), ContentPart.image(0)));
    assertThrows(GlanceException.BadRequest.class, () -> builder.build(dup, Map.of(), List.of(a, b)));
    var outOfRange = List.of(ChatMessage.user(ContentPart.image(2)));
    assertThrows(
        GlanceException.BadRequest.class, () -> builder.build(outOfRange, Map.of(), List.of(a)));
  }

  @Test
  void gridTokenCount() {
    assertEquals(391, new ImageGrid(1, 34, 46).tokens(2));
    assertThrows(IllegalArgumentException.class, () -> new ImageGrid(1, 3, 4).tokens(2));
    assertThrows(IllegalArgumentException.class, () -> new ImageGrid(0, 2, 2));
  }
}
