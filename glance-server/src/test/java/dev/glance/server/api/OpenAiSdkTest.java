package dev.glance.server.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.models.Model;
import dev.glance.server.Fixture;
import dev.glance.server.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The official OpenAI Java SDK against the real server: every fixture case (system messages,
 * several images, multi-turn, thinking on and off) must produce the reference's greedy token ids,
 * which are also what {@code glance ask} produces (AskCommandTest); streaming must give the same
 * text as the plain response.
 */
class OpenAiSdkTest {
  static TestServer server;
  static OpenAIClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("not-needed")
        .timeout(Duration.ofSeconds(60)).maxRetries(0).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  static List<String> caseNames() {
    return Fixture.cases().stream().map(c -> c.path("name").asText()).toList();
  }

  /** The fixture case as SDK parameters: greedy, 12 tokens, end tokens ignored, token ids returned. */
  static ChatCompletionCreateParams.Builder params(JsonNode c) {
    ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model(server.modelName())
        .maxCompletionTokens(12).temperature(0.0)
        .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
        .putAdditionalBodyProperty("return_token_ids", JsonValue.from(true));
    JsonNode kwargs = c.path("template_kwargs");
    if (kwargs.has("enable_thinking")) {
      b.putAdditionalBodyProperty("chat_template_kwargs",
          JsonValue.from(Map.of("enable_thinking", kwargs.get("enable_thinking").asBoolean())));
    }
    int image = 0;
    for (JsonNode m : c.path("messages")) {
      String role = m.path("role").asText();
      JsonNode content = m.path("content");
      switch (role) {
        case "system" -> b.addSystemMessage(content.asText());
        case "assistant" -> b.addAssistantMessage(content.asText());
        default -> {
          if (content.isTextual()) {
            b.addUserMessage(content.asText());
            continue;
          }
          List<ChatCompletionContentPart> parts = new ArrayList<>();
          for (JsonNode p : content) {
            if (p.path("type").asText().equals("image")) {
              String file = c.path("images").get(image++).path("file").asText();
              parts.add(ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                  .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(Fixture.dataUrl(file)).build())
                  .build()));
            } else {
              parts.add(ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder()
                  .text(p.path("text").asText()).build()));
            }
          }
          b.addUserMessageOfArrayOfContentParts(parts);
        }
      }
    }
    return b;
  }

  @ParameterizedTest
  @MethodSource("caseNames")
  void greedyAnswersAreTheReferenceTokens(String name) {
    JsonNode c = Fixture.caseNamed(name);
    ChatCompletion completion = client.chat().completions().create(params(c).build());
    ChatCompletion.Choice choice = completion.choices().getFirst();
    int[] ids = choice._additionalProperties().get("token_ids").convert(int[].class);
    assertArrayEquals(Fixture.greedyIds(name), ids, name + " token ids");
    assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
    var usage = completion.usage().orElseThrow();
    assertEquals(c.path("seq_len").asLong(), usage.promptTokens(), "prompt tokens include image tokens");
    assertEquals(12, usage.completionTokens());
    assertEquals(usage.promptTokens() + 12, usage.totalTokens());
    JsonValue imageTokens = usage.promptTokensDetails().orElseThrow()._additionalProperties().get("image_tokens");
    assertEquals(c.path("image_tokens").asInt(), imageTokens.convert(Integer.class), "image tokens");
    assertEquals(server.modelName(), completion.model());
    assertTrue(completion.id().startsWith("chatcmpl-"), completion.id());
  }

  @Test
  void answerAndThinkingAreSplit() {
    // case0: the template's default (thinking on); its greedy text holds no think tags, so all of
    // it is the answer. case1 (thinking off): the model itself emits <think>, so the rest is reasoning.
    JsonNode c0 = Fixture.caseNamed("case0");
    ChatCompletion a = client.chat().completions().create(params(c0).build());
    assertEquals(c0.path("greedy_text").asText(), a.choices().getFirst().message().content().orElseThrow());
    JsonNode c1 = Fixture.caseNamed("case1");
    assertTrue(c1.path("greedy_text").asText().startsWith("<think>"));
    ChatCompletion b = client.chat().completions().create(params(c1).build());
    JsonValue reasoning = b.choices().getFirst().message()._additionalProperties().get("reasoning_content");
    assertEquals(c1.path("greedy_text").asText().substring("<think>".length()), reasoning.convert(String.class));
    assertEquals("", b.choices().getFirst().message().content().orElse(""));
  }

  @ParameterizedTest
  @MethodSource("caseNames")
  void streamingGivesTheSameTextAsThePlainResponse(String name) {
    JsonNode c = Fixture.caseNamed(name);
    ChatCompletion plain = client.chat().completions().create(params(c).build());
    StringBuilder content = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    List<String> finishes = new ArrayList<>();
    List<ChatCompletionChunk> usageChunks = new ArrayList<>();
    int chunks = 0;
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params(c)
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
        chunks++;
        assertEquals(plain.model(), chunk.model());
        if (chunk.usage().isPresent()) {
          usageChunks.add(chunk);
        }
        for (ChatCompletionChunk.Choice choice : chunk.choices()) {
          choice.delta().content().ifPresent(content::append);
          JsonValue r = choice.delta()._additionalProperties().get("reasoning_content");
          if (r != null) {
            reasoning.append(r.convert(String.class));
          }
          choice.finishReason().ifPresent(f -> finishes.add(f.asString()));
        }
      }
    }
    var message = plain.choices().getFirst().message();
    assertEquals(message.content().orElse(""), content.toString(), name + " content");
    JsonValue plainReasoning = message._additionalProperties().get("reasoning_content");
    String expectedReasoning = plainReasoning == null || plainReasoning.isNull() ? "" : plainReasoning.convert(String.class);
    assertEquals(expectedReasoning, reasoning.toString(), name + " reasoning");
    assertEquals(List.of("length"), finishes);
    assertEquals(1, usageChunks.size(), "one usage chunk");
    assertEquals(plain.usage().orElseThrow().promptTokens(), usageChunks.getFirst().usage().orElseThrow().promptTokens());
    assertEquals(12, usageChunks.getFirst().usage().orElseThrow().completionTokens());
    assertTrue(chunks >= 3, "role chunk, content chunks, finish chunk, usage chunk: " + chunks);
  }

  @Test
  void streamingWithoutUsageSendsNoUsageChunk() {
    JsonNode c = Fixture.caseNamed("case7");
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params(c).build())) {
      List<ChatCompletionChunk> all = stream.stream().toList();
      assertFalse(all.isEmpty());
      assertTrue(all.stream().allMatch(ch -> ch.usage().isEmpty()));
    }
  }

  @Test
  void listsTheModel() {
    List<Model> models = client.models().list().data();
    assertEquals(1, models.size());
    assertEquals(server.modelName(), models.getFirst().id());
    assertEquals(server.modelName(), client.models().retrieve(server.modelName()).id());
  }

  @Test
  void sdkSeesErrorsAsTypedExceptions() {
    var unknown = assertThrows(NotFoundException.class, () -> client.chat().completions().create(
        ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("hi").build()));
    assertEquals("model_not_found", unknown.code().orElseThrow());
    var twoChoices = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
        ChatCompletionCreateParams.builder().model(server.modelName()).addUserMessage("hi").n(2).build()));
    assertTrue(twoChoices.getMessage().contains("n must be 1"), twoChoices.getMessage());
    assertEquals("n", twoChoices.param().orElseThrow());
  }

  @Test
  void seededSamplingRepeats() {
    var b = ChatCompletionCreateParams.builder().model(server.modelName()).addUserMessage("Tell me a story.")
        .maxCompletionTokens(16).temperature(1.0).topP(0.9).seed(42)
        .putAdditionalBodyProperty("return_token_ids", JsonValue.from(true));
    int[] first = client.chat().completions().create(b.build()).choices().getFirst()._additionalProperties()
        .get("token_ids").convert(int[].class);
    int[] again = client.chat().completions().create(b.build()).choices().getFirst()._additionalProperties()
        .get("token_ids").convert(int[].class);
    assertArrayEquals(first, again, "same seed, same tokens");
  }
}
