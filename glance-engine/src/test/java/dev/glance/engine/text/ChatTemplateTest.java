package dev.glance.engine.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ChatTemplateTest {
  private static ChatTemplate template;

  @BeforeAll
  static void load() {
    template = ChatTemplate.load(Fixtures.dir());
  }

  static List<JsonNode> cases() {
    return Fixtures.cases();
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("cases")
  void rendersFixtureMessagesExactly(JsonNode c) {
    String rendered =
        template.renderMaps(Fixtures.messageMaps(c), Fixtures.templateKwargs(c), true);
    assertEquals(c.get("prompt").asText(), rendered);
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("cases")
  void rendersChatMessagesExactly(JsonNode c) {
    List<ChatMessage> messages = Fixtures.chatMessages(c);
    // The ChatMessage model must produce the very maps transformers was given.
    assertEquals(Fixtures.messageMaps(c), TemplateMessages.toMaps(messages));
    assertEquals(c.get("prompt").asText(), template.render(messages, Fixtures.templateKwargs(c)));
  }

  @Test
  void enableThinkingAbsentDiffersFromFalse() {
    List<ChatMessage> messages = List.of(ChatMessage.user("hi"));
    assertEquals("[gMASK]<sop><|user|>\nhi<|assistant|>", template.render(messages, Map.of()));
    assertEquals(
        "[gMASK]<sop><|user|>\nhi/nothink<|assistant|>\n<think></think>\n",
        template.render(messages, Map.of("enable_thinking", false)));
    assertEquals(
        "[gMASK]<sop><|user|>\nhi/nothink<|assistant|>",
        template.render(List.of(ChatMessage.user("hi/nothink")), Map.of()));
    assertEquals("[gMASK]<sop><|user|>\nhi", template.render(messages, Map.of(), false));
  }

  /** A copy of the fixture directory with the template moved into tokenizer_config.json. */
  private static Path checkpointWithTemplateInConfig(Path dir, JsonNode chatTemplateValue)
      throws IOException {
    Path src = Fixtures.dir();
    for (String f : List.of("tokenizer.json", "config.json")) {
      Files.copy(src.resolve(f), dir.resolve(f));
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = (ObjectNode) json.readTree(src.resolve("tokenizer_config.json").toFile());
    config.set("chat_template", chatTemplateValue);
    json.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
    return dir;
  }

  @Test
  void templateFromTokenizerConfigStringRendersTheSame(@TempDir Path dir) throws IOException {
    String source = Files.readString(Fixtures.dir().resolve("chat_template.jinja"));
    ChatTemplate fromConfig =
        ChatTemplate.load(
            checkpointWithTemplateInConfig(dir, new ObjectMapper().getNodeFactory().textNode(source)));
    assertTrue(fromConfig.origin().contains("tokenizer_config.json"), fromConfig.origin());
    for (JsonNode c : Fixtures.cases()) {
      assertEquals(
          c.get("prompt").asText(),
          fromConfig.render(Fixtures.chatMessages(c), Fixtures.templateKwargs(c)),
          c.get("name").asText());
    }
  }

  @Test
  void templateFromTokenizerConfigListTakesDefault(@TempDir Path dir) throws IOException {
    String source = Files.readString(Fixtures.dir().resolve("chat_template.jinja"));
    ArrayNode list = new ObjectMapper().createArrayNode();
    list.addObject().put("name", "tool_use").put("template", "TOOLS");
    list.addObject().put("name", "default").put("template", source);
    ChatTemplate fromConfig = ChatTemplate.load(checkpointWithTemplateInConfig(dir, list));
    for (JsonNode c : Fixtures.cases()) {
      assertEquals(
          c.get("prompt").asText(),
          fromConfig.renderMaps(Fixtures.messageMaps(c), Fixtures.templateKwargs(c), true));
    }
  }

  @Test
  void templateListWithoutDefaultNamesTheFile(@TempDir Path dir) throws IOException {
    ArrayNode list = new ObjectMapper().createArrayNode();
    list.addObject().put("name", "tool_use").put("template", "TOOLS");
    checkpointWithTemplateInConfig(dir, list);
    var e = assertThrows(GlanceException.ModelLoad.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
    assertTrue(e.getMessage().contains("tool_use"), e.getMessage());
  }

  @Test
  void chatTemplateJsonIsRead(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("chat_template.json"), "{\"chat_template\": \"X{{ messages | length }}\"}");
    ChatTemplate t = ChatTemplate.load(dir);
    assertEquals("X1", t.render(List.of(ChatMessage.user("a")), Map.of()));
  }

  @Test
  void missingTemplateIsModelLoadNamingTheFiles(@TempDir Path dir) throws IOException {
    var e = assertThrows(GlanceException.ModelLoad.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("chat_template.jinja"), e.getMessage());
    assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());

    // A tokenizer_config.json without the entry is no better.
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|endoftext|>\"}");
    assertThrows(GlanceException.ModelLoad.class, () -> ChatTemplate.load(dir));

    Files.writeString(dir.resolve("tokenizer_config.json"), "{not json");
    var bad = assertThrows(GlanceException.ModelLoad.class, () -> ChatTemplate.load(dir));
    assertTrue(bad.getMessage().contains("tokenizer_config.json"), bad.getMessage());
  }

  @Test
  void specialTokensFromTokenizerConfigAreVariables(@TempDir Path dir) throws IOException {
    // transformers passes tokenizer_config.json's special tokens (string or AddedToken form).
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"eos_token\": \"<|endoftext|>\", \"bos_token\": {\"content\": \"<s>\"}}");
    Files.writeString(dir.resolve("chat_template.jinja"), "{{ bos_token }}|{{ eos_token }}|{{ unk_token }}");
    assertEquals("<s>|<|endoftext|>|", ChatTemplate.load(dir).render(List.of(), Map.of()));
    // Caller kwargs win over them, as in transformers.
    assertEquals(
        "<s>|E|", ChatTemplate.load(dir).render(List.of(), Map.of("eos_token", "E")));
  }

  @Test
  void syntaxErrorFailsAtLoadNamingTheOrigin() {
    var e =
        assertThrows(
            GlanceException.ModelLoad.class,
            () -> ChatTemplate.of("{% for m in messages %}{{ m.role }}", "broken.jinja"));
    assertTrue(e.getMessage().contains("broken.jinja"), e.getMessage());
    assertThrows(GlanceException.ModelLoad.class, () -> ChatTemplate.of("{% frob %}", "t"));
    assertThrows(GlanceException.ModelLoad.class, () -> ChatTemplate.of("x{% endfor %}", "t"));
    var filter =
        assertThrows(
            GlanceException.ModelLoad.class,
            () -> ChatTemplate.of("{{ '<|user|>' }}{{ x | trim | nofilter(1) }}", "f.jinja"));
    assertTrue(filter.getMessage().contains("nofilter"), filter.getMessage());
    assertTrue(filter.getMessage().contains("f.jinja"), filter.getMessage());
  }

  @Test
  void errorsFoundOnlyWhenRenderingFailLoudly() {
    // Jinjava checks an empty if-expression only when it reaches it.
    ChatTemplate t = ChatTemplate.of("{% if %}x{% endif %}", "t.jinja");
    var e = assertThrows(GlanceException.ModelLoad.class, () -> t.render(List.of(), Map.of()));
    assertTrue(e.getMessage().contains("t.jinja"), e.getMessage());
    ChatTemplate f = ChatTemplate.of("{{ nofunction(1) }}", "t.jinja");
    assertThrows(GlanceException.ModelLoad.class, () -> f.render(List.of(), Map.of()));
  }

  @Test
  void unknownMethodFailsLoudly() {
    ChatTemplate t = ChatTemplate.of("{{ messages[0].content.frobnicate() }}", "t.jinja");
    var e =
        assertThrows(
            GlanceException.ModelLoad.class,
            () -> t.render(List.of(ChatMessage.user("x")), Map.of()));
    assertTrue(e.getMessage().contains("frobnicate"), e.getMessage());
    assertTrue(e.getMessage().contains("t.jinja"), e.getMessage());
  }

  @Test
  void badStringMethodArgumentFailsLoudly() {
    ChatTemplate t = ChatTemplate.of("{{ 'abc'.split('') }}", "t.jinja");
    var e = assertThrows(GlanceException.ModelLoad.class, () -> t.render(List.of(), Map.of()));
    assertTrue(e.getMessage().contains("empty separator"), e.getMessage());
  }

  @Test
  void raiseExceptionIsBadRequestWithTheTemplatesMessage() {
    ChatTemplate t =
        ChatTemplate.of(
            "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the"
                + " user') }}{% endif %}ok",
            "t.jinja");
    assertEquals("ok", t.render(List.of(ChatMessage.user("x")), Map.of()));
    var e =
        assertThrows(
            GlanceException.BadRequest.class,
            () -> t.render(List.of(ChatMessage.assistant("x")), Map.of()));
    assertTrue(e.getMessage().contains("first message must be from the user"), e.getMessage());
  }

  @Test
  void strftimeNowFormatsTheDate() {
    ChatTemplate t = ChatTemplate.of("{{ strftime_now('%Y') }}", "t");
    String year = t.render(List.of(), Map.of());
    assertEquals(String.valueOf(java.time.Year.now().getValue()), year);
  }

  @Test
  void kwargsCannotReplaceMessages() {
    assertThrows(
        GlanceException.BadRequest.class,
        () -> template.render(List.of(), Map.of("messages", List.of())));
  }

  @Test
  void plainStringContentStaysAString() {
    ChatTemplate t =
        ChatTemplate.of(
            "{% for m in messages %}{{ 'S' if m.content is string else 'L' }}{% endfor %}", "t");
    assertEquals(
        "SL",
        t.render(
            List.of(ChatMessage.user("a"), ChatMessage.user(ContentPart.text("b"))), Map.of()));
  }
}
