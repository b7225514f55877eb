package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The server with the engine loop decoding several requests at once: concurrent requests get the
 * answers they get alone, a full server refuses with 503 and Retry-After while every accepted
 * request completes, and a burst ten times its capacity leaves it healthy.
 */
class BatchedServingTest {

  static String chat(TestServer server, String image, String question, int maxTokens) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("model", server.modelName());
    r.put("max_tokens", maxTokens);
    r.put("ignore_eos", true);
    r.put("temperature", 0);
    var content = r.putArray("messages").addObject().put("role", "user").putArray("content");
    content.addObject().put("type", "image_url").putObject("image_url").put("url", Fixture.dataUrl(image));
    content.addObject().put("type", "text").put("text", question);
    return r.toString();
  }

  private static CompletableFuture<HttpResponse<String>> send(HttpClient client, TestServer server, String body) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String answer(String body) throws Exception {
    return Fixture.JSON.readTree(body).path("choices").path(0).path("message").path("content").asText();
  }

  @Test
  void concurrentRequestsGetTheAnswersTheyGetAlone() throws Exception {
    String[][] asks = {
        {"case0_0.png", "What is in this picture?"}, {"case6_0.png", "What is in this picture?"},
        {"case1_0.png", "Describe the image in detail."}, {"case0_0.png", "What colour is it?"},
        {"case3_0.png", "What is in this picture?"}, {"case6_0.png", "Describe the image."}};
    try (TestServer server = TestServer.startBatched(4, c -> c); HttpClient client = HttpClient.newHttpClient()) {
      List<String> alone = new ArrayList<>();
      for (String[] a : asks) {
        TestServer.Reply r = server.post("/v1/chat/completions", chat(server, a[0], a[1], 24));
        assertEquals(200, r.status(), r.body());
        alone.add(answer(r.body()));
      }
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (String[] a : asks) {
        calls.add(send(client, server, chat(server, a[0], a[1], 24)));
      }
      for (int i = 0; i < asks.length; i++) {
        HttpResponse<String> r = calls.get(i).get();
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(alone.get(i), answer(r.body()), "request " + i + " " + List.of(asks[i]));
        assertEquals(24, Fixture.JSON.readTree(r.body()).path("usage").path("completion_tokens").asInt());
      }
    }
  }

  @Test
  void aBurstTenTimesTheCapacityGets200Or503AndTheServerStaysHealthy() throws Exception {
    // 2 decoding + 1 waiting = 3 places; 30 requests at once.
    try (TestServer server = TestServer.startBatched(2, LifecycleTest.with(1, Duration.ofSeconds(60),
        Duration.ofSeconds(30))); HttpClient client = HttpClient.newHttpClient()) {
      String body = chat(server, "case0_0.png", "What is in this picture?", 300);
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        calls.add(send(client, server, body));
      }
      Map<Integer, Integer> statuses = new TreeMap<>();
      String first = null;
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        HttpResponse<String> r = call.get();
        statuses.merge(r.statusCode(), 1, Integer::sum);
        if (r.statusCode() == 200) {
          JsonNode json = Fixture.JSON.readTree(r.body());
          assertEquals(300, json.path("usage").path("completion_tokens").asInt(), "accepted requests complete");
          String a = answer(r.body());
          if (first == null) {
            first = a;
          }
          assertEquals(first, a, "every accepted request gets the same answer");
        } else {
          assertEquals(503, r.statusCode(), r.body());
          assertEquals("overloaded", Fixture.JSON.readTree(r.body()).path("error").path("code").asText());
          assertTrue(Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow()) >= 1);
        }
      }
      assertTrue(statuses.getOrDefault(200, 0) >= 3, "at least the places were served: " + statuses);
      assertTrue(statuses.getOrDefault(503, 0) >= 1, "the burst was refused in part: " + statuses);
      assertEquals(Map.of(200, 30), Map.of(200, statuses.get(200) + statuses.get(503)), "only 200 or 503");
      // Healthy afterwards: nothing left waiting or running, and a request is served normally.
      assertEquals(200, server.get("/health").status());
      TestServer.Reply after = server.post("/v1/chat/completions", body);
      assertEquals(200, after.status(), after.body());
      assertEquals(first, answer(after.body()));
    }
  }

  /** A PNG that declares {@code side} x {@code side} pixels in its header and has no pixel data. */
  static byte[] headerOnlyPng(int side) {
    java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
    ihdr.put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(side).putInt(side)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(ihdr.array());
    return java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4)
        .put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10}).putInt(13).put(ihdr.array())
        .putInt((int) crc.getValue()).array();
  }

  @Test
  void aPromptThatWouldOverfillTheQueuedTokensIsRefusedBeforeItsImageIsDecoded() throws Exception {
    // One running, up to 4 waiting, at most 100 prompt tokens waiting. A 64x64 image is 16 tokens;
    // a 2000x2000 one about 256 (the fixture's max_pixels), priced from its header alone.
    try (TestServer server = TestServer.startWithQueuedTokenBound(1, 4, 100);
        HttpClient client = HttpClient.newHttpClient()) {
      String small = chat(server, "case0_0.png", "What is in this picture?", 2000);
      CompletableFuture<HttpResponse<String>> running = send(client, server, small);
      long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (server.worker().running() < 1 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertEquals(1, server.worker().running(), "the first request runs");
      CompletableFuture<HttpResponse<String>> waiting = send(client, server, small);
      while (server.worker().queuedTokens() == 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      long held = server.worker().queuedTokens();
      assertTrue(held > 16 && held < 100, "the waiting request holds its image and text tokens: " + held);

      ObjectNode big = (ObjectNode) Fixture.JSON.readTree(small);
      ((ObjectNode) big.path("messages").path(0).path("content").path(0).path("image_url")).put("url",
          "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(headerOnlyPng(2000)));
      HttpResponse<String> refused = send(client, server, big.toString()).get();
      assertEquals(503, refused.statusCode(), "refused from the header, before decoding: " + refused.body());
      JsonNode error = Fixture.JSON.readTree(refused.body()).path("error");
      assertEquals("overloaded", error.path("code").asText());
      assertTrue(error.path("message").asText().contains("--max-queued-tokens"), refused.body());
      assertTrue(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()) >= 1);

      assertEquals(200, running.get().statusCode(), "accepted requests complete");
      assertEquals(200, waiting.get().statusCode(), "accepted requests complete");
      assertEquals(0, server.worker().queuedTokens(), "every claim is given back");
      // Alone, the same request is let in and only then found undecodable.
      HttpResponse<String> alone = send(client, server, big.toString()).get();
      assertEquals(400, alone.statusCode(), alone.body());
      assertEquals(0, server.worker().queuedTokens(), "a request that fails before submitting gives its claim back");
    }
  }
}
