package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.server.log.RequestLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The request lifecycle around generation: a client that goes away stops its generation (streamed
 * or not), a full queue answers 503 with Retry-After, a request past the timeout is stopped with
 * 504, loading answers 503, and shutdown lets in-flight requests finish within the grace period
 * and cancels them after it.
 */
class LifecycleTest {
  static final Duration TIMEOUT = Duration.ofMillis(250);

  /**
   * A generation of 4000 tokens on the fixture: seconds on a slow machine, 0.55-0.66 s on a
   * 2-core AVX-512 one (6000-7500 tokens/s), so the timeout tests use {@link #TIMEOUT}, well
   * below that.
   */
  static String longChat(TestServer server, boolean stream) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("model", server.modelName());
    r.put("max_tokens", 4000);
    r.put("ignore_eos", true);
    r.put("temperature", 0);
    r.put("stream", stream);
    var content = r.putArray("messages").addObject().put("role", "user").putArray("content");
    content.addObject().put("type", "image_url").putObject("image_url").put("url", Fixture.dataUrl("case0_0.png"));
    content.addObject().put("type", "text").put("text", "What is in this picture?");
    return r.toString();
  }

  /** Opens a raw connection and sends one POST, so the test can close it whenever it likes. */
  static Socket rawPost(TestServer server, String path, String body) throws IOException {
    Socket s = new Socket("127.0.0.1", server.server.port());
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    OutputStream out = s.getOutputStream();
    out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
    return s;
  }

  static void awaitRunning(TestServer server, int n) throws InterruptedException {
    server.awaitRunning(n);
  }

  static UnaryOperator<ServerConfig> with(int queueSize, Duration timeout, Duration grace) {
    return c -> new ServerConfig(c.host(), c.port(), c.servedModelName(), c.maxBodyBytes(), c.maxImageBytes(),
        c.maxImagePixels(), c.maxImages(), c.maxTokensLimit(), c.maxPixels(), queueSize, timeout, grace, true,
        c.fetchTimeout(), List.of(), "");
  }

  @Test
  void aStreamingClientThatLeavesStopsItsGeneration() throws Exception {
    try (TestServer server = TestServer.start()) {
      long closedAt;
      try (Socket s = rawPost(server, "/v1/chat/completions", longChat(server, true))) {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        int contentLines = 0;
        String line;
        while ((line = in.readLine()) != null && contentLines < 3) {
          if (line.startsWith("data: ") && line.contains("\"content\":\"") && !line.contains("\"role\"")) {
            contentLines++;
          }
        }
        assertEquals(3, contentLines, "the stream started");
        closedAt = System.nanoTime();
      }
      JsonNode log = server.lastLogFor("/v1/chat/completions", 1);
      double stoppedAfter = (System.nanoTime() - closedAt) / 1e9;
      assertEquals(499, log.path("status").asInt(), log.toString());
      assertTrue(log.path("flags").toString().contains("client_gone"), log.toString());
      assertEquals("cancelled", log.path("finish_reason").asText(), log.toString());
      assertTrue(log.path("completion_tokens").asInt() < 4000, log.toString());
      assertTrue(stoppedAfter < 2, "stopped " + stoppedAfter + " s after the client left");
      // The engine is free again: a short request is answered at once.
      assertEquals(200, server.post("/infer", shortInfer()).status());
    }
  }

  @Test
  void aWaitingClientThatLeavesStopsItsGenerationWithoutAnyWrite() throws Exception {
    try (TestServer server = TestServer.start()) {
      try (Socket s = rawPost(server, "/v1/chat/completions", longChat(server, false))) {
        awaitRunning(server, 1);
        assertTrue(s.isConnected());
      }
      JsonNode log = server.lastLogFor("/v1/chat/completions", 1);
      assertEquals(499, log.path("status").asInt(), log.toString());
      assertTrue(log.path("flags").toString().contains("client_gone"), log.toString());
      assertTrue(log.path("completion_tokens").asInt() < 4000, log.toString());
    }
  }

  static String shortInfer() {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("image", Fixture.base64("case0_0.png"));
    r.put("text", "What is in this picture?");
    r.put("max_tokens", 2);
    return r.toString();
  }

  @Test
  void aFullQueueAnswers503WithRetryAfter() throws Exception {
    try (TestServer server = TestServer.start(with(0, Duration.ofSeconds(60), Duration.ofSeconds(30)))) {
      HttpClient client = HttpClient.newHttpClient();
      CompletableFuture<HttpResponse<String>> first = client.sendAsync(HttpRequest.newBuilder(
          URI.create(server.url("/v1/chat/completions"))).POST(HttpRequest.BodyPublishers.ofString(
              longChat(server, false))).build(), HttpResponse.BodyHandlers.ofString());
      awaitRunning(server, 1);
      TestServer.Reply refused = server.post("/infer", shortInfer());
      assertEquals(503, refused.status(), refused.body());
      assertEquals("overloaded", refused.json().path("error").path("code").asText());
      long retry = Long.parseLong(refused.response().headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retry >= 1, "Retry-After " + retry);
      HttpResponse<String> done = first.get();
      assertEquals(200, done.statusCode(), done.body());
      assertEquals(4000, Fixture.JSON.readTree(done.body()).path("usage").path("completion_tokens").asInt());
      assertEquals(200, server.post("/infer", shortInfer()).status(), "a place is free again");
      client.close();
    }
  }

  @Test
  void aRequestPastTheTimeoutIsStopped() throws Exception {
    try (TestServer server = TestServer.start(with(4, TIMEOUT, Duration.ofSeconds(30)))) {
      long t0 = System.nanoTime();
      TestServer.Reply r = server.post("/v1/chat/completions", longChat(server, false));
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertEquals(504, r.status(), r.body());
      assertEquals("timeout", r.json().path("error").path("code").asText());
      assertTrue(seconds < 2.5, "answered after " + seconds + " s");
      JsonNode log = server.lastLogFor("/v1/chat/completions", 1);
      assertTrue(log.path("flags").toString().contains("timeout"), log.toString());
      assertTrue(log.path("completion_tokens").asInt() < 4000, log.toString());
      // Streaming: the timeout arrives after the stream started, so it comes as an error event.
      TestServer.Reply s = server.post("/v1/chat/completions", longChat(server, true));
      assertEquals(200, s.status());
      List<String> events = Stream.of(s.body().split("\n\n")).map(String::strip).toList();
      assertTrue(events.get(events.size() - 2).contains("\"code\":\"timeout\""), events.getLast());
      assertEquals("data: [DONE]", events.getLast());
    }
  }

  @Test
  void aQueuedRequestPastTheTimeoutIsAnsweredWithoutWaitingForItsTurn() throws Exception {
    try (TestServer server = TestServer.start(with(4, TIMEOUT, Duration.ofSeconds(30)));
        HttpClient client = HttpClient.newHttpClient()) {
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < 3; i++) {
        calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
            .POST(HttpRequest.BodyPublishers.ofString(longChat(server, false))).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        HttpResponse<String> r = call.get();
        assertEquals(504, r.statusCode(), r.body());
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertTrue(seconds < 2.5, "three requests that each would run for seconds were answered after " + seconds + " s");
    }
  }

  @Test
  void whileLoadingEverythingAnswers503ButMetrics() {
    ServerConfig config = TestServer.testConfig();
    TestState state = TestState.sqlite();
    GlanceServer server = GlanceServer.start(config, RequestLog.none(), state.services);
    try (HttpClient client = HttpClient.newHttpClient()) {
      String base = "http://127.0.0.1:" + server.port();
      HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(503, health.statusCode());
      assertTrue(health.body().contains("loading"), health.body());
      HttpResponse<String> models = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(503, models.statusCode());
      assertTrue(models.body().contains("model_loading"), models.body());
      assertTrue(models.headers().firstValue("Retry-After").isPresent());
      HttpResponse<String> infer = client.send(HttpRequest.newBuilder(URI.create(base + "/infer"))
          .POST(HttpRequest.BodyPublishers.ofString(shortInfer())).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, infer.statusCode());
      HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, metrics.statusCode());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      server.shutdown();
      state.close();
    }
  }

  @Test
  void shutdownLetsInFlightRequestsFinishWithinTheGrace() throws Exception {
    TestServer server = TestServer.start(with(4, Duration.ofSeconds(60), Duration.ofSeconds(30)));
    HttpClient client = HttpClient.newHttpClient();
    CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(HttpRequest.newBuilder(
        URI.create(server.url("/v1/chat/completions"))).POST(HttpRequest.BodyPublishers.ofString(
            longChat(server, true))).build(), HttpResponse.BodyHandlers.ofString());
    awaitRunning(server, 1);
    server.close();
    HttpResponse<String> done = inFlight.get();
    assertEquals(200, done.statusCode());
    assertTrue(done.body().contains("\"finish_reason\":\"length\""), "finished normally");
    assertTrue(done.body().strip().endsWith("data: [DONE]"));
    client.close();
  }

  @Test
  void afterTheGraceInFlightRequestsAreCancelled() throws Exception {
    TestServer server = TestServer.start(with(4, Duration.ofSeconds(60), Duration.ofMillis(200)));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
        .POST(HttpRequest.BodyPublishers.ofString(longChat(server, true))).build(),
        HttpResponse.BodyHandlers.ofString()));
    awaitRunning(server, 1);
    // A second one waits in the queue behind it.
    calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions")))
        .POST(HttpRequest.BodyPublishers.ofString(longChat(server, false))).build(),
        HttpResponse.BodyHandlers.ofString()));
    Thread.sleep(100);
    long t0 = System.nanoTime();
    server.close();
    double seconds = (System.nanoTime() - t0) / 1e9;
    HttpResponse<String> streamed = calls.get(0).get();
    assertEquals(200, streamed.statusCode());
    assertTrue(streamed.body().contains("\"code\":\"shutting_down\""), "told by an error event");
    HttpResponse<String> queued = calls.get(1).get();
    assertEquals(503, queued.statusCode(), queued.body());
    assertTrue(queued.body().contains("shutting down"), queued.body());
    assertTrue(seconds < 3, "shutdown took " + seconds + " s");
    client.close();
  }
}
