package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * The prefix KV cache seen from outside: a second question about the same image reuses the
 * prompt's cached blocks (the template and the image), reports them as
 * usage.prompt_tokens_details.cached_tokens and timings.cache.prefix_tokens, counts a prefix hit
 * in /metrics, and answers exactly what a server with a cold cache answers.
 */
class PrefixCacheServingTest {
  private static final String IMAGE = "case1_0.png";
  /**
   * Text both questions start with, so that the shared prefix (template, image, this) ends well
   * past a block boundary whatever the block size (32 positions by default; the image alone ends
   * inside the third block).
   */
  private static final String SHARED = "Look closely at the picture above, at its colours, its shapes and where they sit. ";
  private static final String FIRST = SHARED + "Describe the image in detail.";
  private static final String SECOND = SHARED + "What shapes do you see?";

  private static JsonNode ask(TestServer server, String question) throws Exception {
    ObjectNode body = (ObjectNode) Fixture.JSON.readTree(BatchedServingTest.chat(server, IMAGE, question, 16));
    body.put("return_token_ids", true);
    body.put("cache", false);
    TestServer.Reply r = server.post("/v1/chat/completions", body.toString());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  private static int cachedTokens(JsonNode reply) {
    return reply.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt(-1);
  }

  private static double metric(TestServer server, String line) {
    for (String l : server.get("/metrics").body().split("\n")) {
      if (l.startsWith(line + " ")) {
        return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no " + line + " in /metrics");
  }

  @Test
  void aSecondQuestionAboutTheSameImageReusesItsPrefixAndAnswersAsCold() throws Exception {
    JsonNode cold;
    try (TestServer server = TestServer.startBatched(2, ThroughputSettings.defaults())) {
      cold = ask(server, SECOND);
      assertEquals(0, cachedTokens(cold), cold.toString());
      assertEquals(0, cold.path("timings").path("cache").path("prefix_tokens").asInt(-1));
    }
    try (TestServer server = TestServer.startBatched(2, ThroughputSettings.defaults())) {
      JsonNode first = ask(server, FIRST);
      assertEquals(0, cachedTokens(first), first.toString());
      JsonNode second = ask(server, SECOND);
      int cached = cachedTokens(second);
      int image = second.path("usage").path("prompt_tokens_details").path("image_tokens").asInt();
      assertTrue(cached > image, "the template and the image's " + image + " tokens came from the cache: " + second);
      double block = metric(server, "glance_kv_block_positions");
      assertEquals(0.0, cached % block, "whole blocks of " + block + " positions: " + cached);
      assertTrue(cached < second.path("usage").path("prompt_tokens").asInt(), "the new question did not");
      assertEquals(cached, second.path("timings").path("cache").path("prefix_tokens").asInt(-1));
      assertEquals(cold.path("choices").path(0).path("token_ids"), second.path("choices").path(0).path("token_ids"));
      assertEquals(cold.path("choices").path(0).path("message").path("content").asText(),
          second.path("choices").path(0).path("message").path("content").asText());
      assertEquals(1.0, metric(server, "glance_cache_hits_total{cache=\"prefix\"}"));
      assertEquals(1.0, metric(server, "glance_cache_misses_total{cache=\"prefix\"}"));
      assertEquals(cached, metric(server, "glance_prefix_cached_tokens_total"));
      assertEquals(cached, server.logOf(second.path("id").asText()).path("cached_tokens").asInt(-1),
          "the request log says what came from the cache");
      assertEquals(0.0, metric(server, "glance_kv_blocks{state=\"used\"}"), "nothing running");
      assertTrue(metric(server, "glance_kv_blocks{state=\"cached\"}") > 0, "both prompts' blocks are kept");
    }
  }
}
