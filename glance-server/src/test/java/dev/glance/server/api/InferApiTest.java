package dev.glance.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.server.Fixture;
import dev.glance.server.TestServer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /infer} over plain HTTP (java.net.http), in the shape existing scripts post. */
class InferApiTest {
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static ObjectNode request(String file, String text) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("image", Fixture.base64(file));
    r.put("text", text);
    r.put("max_tokens", 12);
    r.put("temperature", 0);
    return r;
  }

  @Test
  void theScriptShapeGetsAnOutput() throws Exception {
    // Exactly the four fields a script posts; "output" is what it reads.
    TestServer.Reply r = server.post("/infer", request("case0_0.png", "What is in this picture?").toString());
    assertEquals(200, r.status(), r.body());
    assertEquals("application/json", r.response().headers().firstValue("Content-Type").orElseThrow());
    JsonNode out = r.json();
    JsonNode c0 = Fixture.caseNamed("case0");
    // Case 0 is this request; its 12 greedy tokens hold no end token, so ignore_eos is not needed.
    assertEquals(c0.path("greedy_text").asText(), out.path("output").asText());
    assertTrue(out.path("id").asText().startsWith("infer-"));
    assertEquals("length", out.path("finish_reason").asText());
    JsonNode usage = out.path("usage");
    assertEquals(c0.path("seq_len").asInt(), usage.path("prompt_tokens").asInt());
    assertEquals(c0.path("image_tokens").asInt(), usage.path("image_tokens").asInt());
    assertEquals(12, usage.path("completion_tokens").asInt());
    for (String k : List.of("queue_ms", "preprocess_ms", "vision_ms", "prefill_ms", "decode_ms", "first_token_ms",
        "total_ms")) {
      assertTrue(out.path("timings").path(k).isNumber(), "timings." + k + " in " + out);
    }
    JsonNode log = server.logOf(out.path("id").asText());
    assertEquals("/infer", log.path("route").asText());
    assertEquals(200, log.path("status").asInt());
    assertEquals(64, log.path("images").get(0).path("width").asInt());
    assertEquals(324, log.path("images").get(0).path("bytes").asInt());
    assertEquals(64, log.path("images").get(0).path("sha256").asText().length());
    assertEquals(12, log.path("completion_tokens").asInt());
    assertTrue(log.path("flags").toString().contains("max_tokens"), log.toString());
  }

  @Test
  void aDataUrlPrefixAndAnImageListWork() {
    ObjectNode r = request("case0_0.png", "What is in this picture?");
    r.put("image", Fixture.dataUrl("case0_0.png"));
    JsonNode plain = server.post("/infer", request("case0_0.png", "What is in this picture?").toString()).json();
    JsonNode prefixed = server.post("/infer", r.toString()).json();
    assertEquals(plain.path("output").asText(), prefixed.path("output").asText());

    ObjectNode two = Fixture.JSON.createObjectNode();
    two.putArray("images").add(Fixture.base64("case5_0.png")).add(Fixture.dataUrl("case5_1.png"));
    two.put("text", "Compare the two images.");
    two.put("max_tokens", 4);
    TestServer.Reply reply = server.post("/infer", two.toString());
    assertEquals(200, reply.status(), reply.body());
    assertEquals(Fixture.caseNamed("case5").path("image_tokens").asInt(),
        reply.json().path("usage").path("image_tokens").asInt());
  }

  @Test
  void optionalFieldsAreHonoured() {
    ObjectNode r = request("case6_0.png", "What colour is it?");
    r.put("thinking", false);
    r.put("seed", 7);
    r.put("top_p", 0.5);
    r.putArray("stop").add("zzzz");
    r.put("system", "Be brief.");
    r.put("max_tokens", 3);
    TestServer.Reply reply = server.post("/infer", r.toString());
    assertEquals(200, reply.status(), reply.body());
    assertEquals(3, reply.json().path("usage").path("completion_tokens").asInt());
  }

  @Test
  void aLowerMaxPixelsGivesFewerImageTokens() {
    // case4 is 1000x700: at the checkpoint's max_pixels it gets 117 image tokens.
    ObjectNode r = request("case4_0.png", "Describe the image in detail.");
    r.put("max_tokens", 1);
    int full = server.post("/infer", r.toString()).json().path("usage").path("image_tokens").asInt();
    assertEquals(Fixture.caseNamed("case4").path("image_tokens").asInt(), full);
    r.put("max_pixels", 28 * 28 * 16);
    TestServer.Reply smaller = server.post("/infer", r.toString());
    assertEquals(200, smaller.status(), smaller.body());
    int fewer = smaller.json().path("usage").path("image_tokens").asInt();
    assertTrue(fewer < full && fewer > 0, fewer + " image tokens at max_pixels 12544, " + full + " by default");
    r.put("max_pixels", 10_000_000);
    TestServer.Reply tooMany = server.post("/infer", r.toString());
    assertEquals(400, tooMany.status());
    assertTrue(tooMany.json().path("error").path("message").asText().contains("max_pixels"), tooMany.body());
  }

  @Test
  void maxTokensMayBeLeftOut() {
    ObjectNode r = request("case0_0.png", "What is in this picture?");
    r.remove("max_tokens");
    r.put("stop", "E");
    TestServer.Reply reply = server.post("/infer", r.toString());
    assertEquals(200, reply.status(), reply.body());
    assertFalse(reply.json().path("output").asText().contains("E"));
    assertEquals("stop", reply.json().path("finish_reason").asText());
  }

  @Test
  void promptPlusMaxTokensOverTheContextIsRefusedBeforeGenerating() {
    ObjectNode r = request("case0_0.png", "What is in this picture?");
    r.put("max_tokens", 4090);
    TestServer.Reply reply = server.post("/infer", r.toString());
    assertEquals(400, reply.status(), reply.body());
    String message = reply.json().path("error").path("message").asText();
    assertTrue(message.contains("context of 4096") && message.contains("at most 4069"), message);
  }

  @Test
  void metricsCountRequestsTokensAndLatencies() {
    server.post("/infer", request("case0_0.png", "What is in this picture?").toString());
    server.post("/infer", "{");
    String metrics = server.get("/metrics").body();
    for (String name : List.of("glance_http_requests_total{route=\"/infer\",status=\"200\"}",
        "glance_http_requests_total{route=\"/infer\",status=\"400\"}",
        "glance_time_to_first_token_seconds_bucket", "glance_time_per_output_token_seconds_count",
        "glance_queue_time_seconds_count", "glance_request_duration_seconds_count{route=\"/infer\"}",
        "glance_preprocess_seconds_count", "glance_vision_seconds_count", "glance_prompt_tokens_total",
        "glance_image_tokens_total", "glance_completion_tokens_total", "glance_requests_waiting",
        "glance_requests_running", "glance_flagged_requests_total{flag=\"max_tokens\"}")) {
      assertTrue(metrics.contains(name), name + " missing from /metrics:\n" + metrics);
    }
    assertTrue(metricValue(metrics, "glance_image_tokens_total") >= 9);
    assertTrue(metricValue(metrics, "glance_completion_tokens_total") >= 12);
  }

  static double metricValue(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).strip());
      }
    }
    throw new AssertionError(name + " not in metrics");
  }

  @Test
  void healthAndModels() {
    TestServer.Reply health = server.get("/health");
    assertEquals(200, health.status());
    assertEquals("ok", health.json().path("status").asText());
    JsonNode models = server.get("/v1/models").json();
    assertEquals(server.modelName(), models.path("data").get(0).path("id").asText());
    assertEquals(4096, models.path("data").get(0).path("max_model_len").asInt());
  }
}
