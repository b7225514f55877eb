package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The exact response cache and the vision cache seen from outside: a hit answers exactly what a
 * fresh generation answers, different images never share an entry, the bypass field and header
 * work, identical requests in flight together run the engine once, and a request that waits too
 * long for the engine gets {@code queue_timeout}.
 */
class ResponseCacheServingTest {

  private static ObjectNode chat(TestServer server, String image, String question, int maxTokens) throws Exception {
    ObjectNode r = (ObjectNode) Fixture.JSON.readTree(BatchedServingTest.chat(server, image, question, maxTokens));
    r.put("return_token_ids", true);
    return r;
  }

  private static JsonNode post(TestServer server, ObjectNode body) throws Exception {
    TestServer.Reply r = server.post("/v1/chat/completions", body.toString());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  private static JsonNode cacheOf(JsonNode reply) {
    return reply.path("timings").path("cache");
  }

  private static String content(JsonNode reply) {
    return reply.path("choices").path(0).path("message").path("content").asText();
  }

  private static JsonNode ids(JsonNode reply) {
    return reply.path("choices").path(0).path("token_ids");
  }

  /** Engine generations so far: the prefill histogram observes each one, never a cache answer. */
  private static long generations(TestServer server) {
    for (String line : server.get("/metrics").body().split("\n")) {
      if (line.startsWith("glance_prefill_seconds_count")) {
        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no glance_prefill_seconds_count in /metrics");
  }

  @Test
  void aHitAnswersExactlyWhatAFreshGenerationAnswers() throws Exception {
    try (TestServer server = TestServer.startBatched(2, ThroughputSettings.defaults())) {
      ObjectNode ask = chat(server, "case0_0.png", "What is in this picture?", 20);
      JsonNode first = post(server, ask);
      assertFalse(cacheOf(first).path("response").asBoolean(true), first.toString());
      assertEquals(0, cacheOf(first).path("vision_hits").asInt(-1));
      long before = generations(server);
      JsonNode second = post(server, ask);
      assertTrue(cacheOf(second).path("response").asBoolean(), second.toString());
      assertEquals(before, generations(server), "a hit must not run the engine");
      assertEquals(content(first), content(second));
      assertEquals(ids(first), ids(second));
      // Token counts are the same; the cost is not: a hit keeps the engine busy for no time.
      ObjectNode firstUsage = first.path("usage").deepCopy();
      ObjectNode secondUsage = second.path("usage").deepCopy();
      assertEquals(0.0, secondUsage.path("cost").path("busy_ms").asDouble(-1), second.toString());
      firstUsage.remove("cost");
      secondUsage.remove("cost");
      assertEquals(firstUsage, secondUsage);
      assertEquals(0.0, second.path("timings").path("prefill_ms").asDouble(-1));

      // The same answer computed afresh (cache bypassed) is the same too.
      ObjectNode fresh = ask.deepCopy().put("cache", false);
      JsonNode third = post(server, fresh);
      assertFalse(cacheOf(third).path("response").asBoolean(true));
      assertEquals(before + 1, generations(server));
      assertEquals(ids(first), ids(third));
      assertEquals(1, cacheOf(third).path("vision_hits").asInt(), "the image's embeddings were cached");

      // A streamed hit replays the same text, and its final chunk says it was a hit.
      ObjectNode streamed = ask.deepCopy().put("stream", true);
      TestServer.Reply r = server.post("/v1/chat/completions", streamed.toString());
      assertEquals(200, r.status(), r.body());
      StringBuilder text = new StringBuilder();
      JsonNode finish = null;
      for (String line : r.body().split("\n")) {
        if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
          continue;
        }
        JsonNode chunk = Fixture.JSON.readTree(line.substring(6));
        text.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
        if (!chunk.path("choices").path(0).path("finish_reason").isNull()
            && chunk.path("choices").path(0).has("finish_reason")) {
          finish = chunk;
        }
      }
      assertEquals(content(first), text.toString());
      assertTrue(finish != null && cacheOf(finish).path("response").asBoolean(), String.valueOf(finish));
      assertEquals(ids(first), finish.path("choices").path(0).path("token_ids"));
      assertEquals(before + 1, generations(server));

      // /infer has its own entry (no thinking field) and answers the same when hit.
      ObjectNode infer = Fixture.JSON.createObjectNode();
      infer.put("image", Fixture.base64("case0_0.png")).put("text", "What is in this picture?")
          .put("max_tokens", 12).put("temperature", 0);
      TestServer.Reply i1 = server.post("/infer", infer.toString());
      TestServer.Reply i2 = server.post("/infer", infer.toString());
      assertEquals(200, i2.status(), i2.body());
      assertFalse(cacheOf(i1.json()).path("response").asBoolean(true));
      assertTrue(cacheOf(i2.json()).path("response").asBoolean());
      assertEquals(i1.json().path("output"), i2.json().path("output"));

      String metrics = server.get("/metrics").body();
      assertTrue(metrics.contains("glance_cache_hits_total{cache=\"response\"} 3.0"), metrics);
      assertTrue(metrics.contains("glance_cache_hits_total{cache=\"vision\"}"), metrics);
    }
  }

  @Test
  void differentImagesWithTheSamePromptNeverShareAnEntry() throws Exception {
    try (TestServer server = TestServer.startBatched(2, ThroughputSettings.defaults())) {
      String q = "What is in this picture?";
      JsonNode a = post(server, chat(server, "case0_0.png", q, 20));
      JsonNode b = post(server, chat(server, "case6_0.png", q, 20));
      assertFalse(cacheOf(b).path("response").asBoolean(true), b.toString());
      assertEquals(0, cacheOf(b).path("vision_hits").asInt(-1), b.toString());
      JsonNode bAlone = post(server, chat(server, "case6_0.png", q, 20).put("cache", false));
      assertEquals(ids(bAlone), ids(b));
      assertNotEquals(ids(a), ids(b), "the fixture's two images give different answers");
    }
  }

  @Test
  void theFieldAndTheHeaderBypassTheCache() throws Exception {
    try (TestServer server = TestServer.startBatched(2, ThroughputSettings.defaults())) {
      ObjectNode ask = chat(server, "case1_0.png", "Describe the image in detail.", 8);
      post(server, ask);
      long before = generations(server);
      JsonNode bypassed = post(server, ask.deepCopy().put("cache", false));
      assertFalse(cacheOf(bypassed).path("response").asBoolean(true));
      TestServer.Reply header = server.send(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
          .header("Cache-Control", "no-cache").POST(HttpRequest.BodyPublishers.ofString(ask.toString())).build());
      assertEquals(200, header.status(), header.body());
      assertFalse(cacheOf(header.json()).path("response").asBoolean(true));
      assertEquals(before + 2, generations(server));
      // Sampling without a seed is never cached.
      ObjectNode sampled = ask.deepCopy().put("temperature", 0.8);
      post(server, sampled);
      JsonNode again = post(server, sampled);
      assertFalse(cacheOf(again).path("response").asBoolean(true));
      // With a seed it is.
      ObjectNode seeded = sampled.deepCopy().put("seed", 7);
      JsonNode s1 = post(server, seeded);
      JsonNode s2 = post(server, seeded);
      assertTrue(cacheOf(s2).path("response").asBoolean());
      assertEquals(ids(s1), ids(s2));
    }
  }

  @Test
  void identicalRequestsInFlightTogetherRunTheEngineOnce() throws Exception {
    // No storing (size 0): the followers can only get the leader's result by coalescing.
    ThroughputSettings noStore = new ThroughputSettings(0, Duration.ofMinutes(1), Duration.ofMinutes(1));
    try (TestServer server = TestServer.startBatched(4, noStore); HttpClient client = HttpClient.newHttpClient()) {
      ObjectNode ask = chat(server, "case3_0.png", "What is in this picture?", 200);
      long before = generations(server);
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
            .POST(HttpRequest.BodyPublishers.ofString(ask.toString())).build(), HttpResponse.BodyHandlers.ofString()));
      }
      List<JsonNode> replies = new ArrayList<>();
      int hits = 0;
      for (var call : calls) {
        HttpResponse<String> r = call.get();
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = Fixture.JSON.readTree(r.body());
        replies.add(j);
        hits += cacheOf(j).path("response").asBoolean() ? 1 : 0;
      }
      long ran = generations(server) - before;
      // Requests that arrive after the leader finished run again (nothing is stored); the test
      // checks that those that overlapped did not: every hit is one generation saved.
      assertEquals(4, ran + hits, "each request either ran or was answered by the leader");
      assertTrue(hits >= 1, "at least one request overlapped the first and was coalesced; ran " + ran);
      for (JsonNode j : replies) {
        assertEquals(ids(replies.get(0)), ids(j));
      }
      // Nothing was stored: a later identical request runs the engine.
      JsonNode later = post(server, ask);
      assertFalse(cacheOf(later).path("response").asBoolean(true));
    }
  }

  @Test
  void aRequestThatWaitsTooLongForTheEngineGetsQueueTimeout() throws Exception {
    // The long generation below lasts about 300 ms on the fastest machine seen (Zen 5, tiny model
    // at ~17,000 tokens/s): the queue timeout must stay well below that, or the waiting request
    // gets the slot in time and is answered (it was 300 ms and failed there).
    ThroughputSettings shortWait = new ThroughputSettings(0, Duration.ZERO, Duration.ofMillis(100));
    try (TestServer server = TestServer.startBatched(1, shortWait); HttpClient client = HttpClient.newHttpClient()) {
      // One long generation holds the only batch slot.
      ObjectNode longAsk = chat(server, "case0_0.png", "What is in this picture?", 3000).put("cache", false);
      CompletableFuture<HttpResponse<String>> running = client.sendAsync(
          HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
              .POST(HttpRequest.BodyPublishers.ofString(longAsk.toString())).build(),
          HttpResponse.BodyHandlers.ofString());
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!server.get("/metrics").body().contains("glance_requests_running 1.0") && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      TestServer.Reply waited = server.post("/v1/chat/completions",
          chat(server, "case6_0.png", "What is in this picture?", 4).put("cache", false).toString());
      assertEquals(503, waited.status(), waited.body());
      assertEquals("queue_timeout", waited.json().path("error").path("code").asText(), waited.body());
      assertTrue(waited.json().path("error").path("message").asText().contains("--queue-timeout"));
      assertTrue(waited.response().headers().firstValue("Retry-After").isPresent());
      HttpResponse<String> r = running.get();
      assertEquals(200, r.statusCode(), r.body());
      // The server still serves.
      post(server, chat(server, "case6_0.png", "What is in this picture?", 4));
    }
  }
}
