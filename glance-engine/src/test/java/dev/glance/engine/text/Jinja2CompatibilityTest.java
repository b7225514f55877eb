package dev.glance.engine.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Templates rendered here against what Python's jinja2 renders with Hugging Face's chat-template
 * settings (jinja2-cases.json, made by jinja2-cases.py): Python string methods, {@code tojson},
 * whitespace control (trim/lstrip blocks, <code>{{-</code>), operator precedence, dict iteration and
 * Python's printing of values.
 */
class Jinja2CompatibilityTest {
  private static final JsonNode CASES = read();

  private static JsonNode read() {
    try (InputStream in =
        Jinja2CompatibilityTest.class.getResourceAsStream("jinja2-cases.json")) {
      if (in == null) {
        throw new AssertionError("test resource jinja2-cases.json missing");
      }
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static List<JsonNode> cases() {
    List<JsonNode> out = new ArrayList<>();
    CASES.get("cases").forEach(out::add);
    return out;
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("cases")
  void matchesPythonJinja(JsonNode c) {
    Map<String, Object> vars =
        new ObjectMapper().convertValue(CASES.get("vars"), new TypeReference<>() {});
    ChatTemplate t = ChatTemplate.of(c.get("template").asText(), "case");
    assertEquals(c.get("expected").asText(), t.renderMaps(List.of(), vars, true));
  }
}
