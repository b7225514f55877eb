package dev.glance.engine.text;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The reference fixture {@code glm4v-tiny-a}, found through the {@code glance.fixtures} system
 * property that surefire sets. Missing fixtures fail the test with a clear message; they are never
 * a reason to skip.
 */
final class Fixtures {
  static final String NAME = "glm4v-tiny-a";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static Path dir() {
    return dev.glance.engine.Fixture.DIR;
  }

  static JsonNode expected() {
    return readJson(dir().resolve("expected.json"));
  }

  static JsonNode readJson(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The per-case entries of expected.json. */
  static List<JsonNode> cases() {
    List<JsonNode> out = new ArrayList<>();
    expected().get("cases").forEach(out::add);
    if (out.isEmpty()) {
      throw new AssertionError("expected.json has no cases");
    }
    return out;
  }

  static List<JsonNode> tokenizerCases() {
    List<JsonNode> out = new ArrayList<>();
    expected().get("tokenizer_cases").forEach(out::add);
    if (out.isEmpty()) {
      throw new AssertionError("expected.json has no tokenizer_cases");
    }
    return out;
  }

  /** A JSON value as plain Java maps/lists/strings/booleans, exactly as Python would hold it. */
  static <T> T plain(JsonNode node, TypeReference<T> type) {
    return JSON.convertValue(node, type);
  }

  static List<Map<String, Object>> messageMaps(JsonNode testCase) {
    return plain(testCase.get("messages"), new TypeReference<>() {});
  }

  static Map<String, Object> templateKwargs(JsonNode testCase) {
    return plain(testCase.get("template_kwargs"), new TypeReference<>() {});
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).intValue();
    }
    return out;
  }

  static int[] ints(long[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.toIntExact(values[i]);
    }
    return out;
  }

  /**
   * The case's messages as {@link ChatMessage}s: string content stays plain, list items become
   * parts, and images are numbered in the order they appear.
   */
  static List<ChatMessage> chatMessages(JsonNode testCase) {
    List<ChatMessage> out = new ArrayList<>();
    int image = 0;
    for (JsonNode m : testCase.get("messages")) {
      Role role = Role.parse(m.get("role").asText());
      JsonNode content = m.get("content");
      if (content.isTextual()) {
        out.add(ChatMessage.text(role, content.asText()));
        continue;
      }
      List<ContentPart> parts = new ArrayList<>();
      for (JsonNode item : content) {
        switch (item.get("type").asText()) {
          case "text" -> parts.add(new ContentPart.TextPart(item.get("text").asText()));
          case "image" -> parts.add(new ContentPart.ImagePart(image++));
          default -> throw new AssertionError("unexpected content item " + item);
        }
      }
      out.add(ChatMessage.parts(role, parts));
    }
    return out;
  }
}
