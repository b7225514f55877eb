package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.server.api.ChatRequestParser;
import dev.glance.server.security.AccessSettings;
import dev.glance.server.state.TestDatabases;
import dev.glance.server.usage.CostModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The usage ledger through the real server, on SQLite and on PostgreSQL: every request that got a
 * response (answered, invalid, streamed, abandoned by its client) has exactly one row with what
 * the response said (tokens, cost, status); the cost is the configured arithmetic on the engine
 * time and tokens; GET /v1/usage totals equal the sums of the rows and of their groups; and the
 * token estimate reserved for rate limits is never below what a request used.
 */
class UsageApiTest {
  /** 36 CNY an hour of engine time (0.00001 a millisecond), 2 and 8 per million tokens; reference 1.1 and 4.4. */
  static final CostModel COST = new CostModel("CNY", 36, 2, 8, new CostModel.Reference("ref", 1.1, 4.4));

  static List<String> kinds() {
    return TestDatabases.kinds();
  }

  /** What a response said about one request. */
  record Answer(int status, String route, int images, JsonNode usage, JsonNode timings) {}

  @ParameterizedTest
  @MethodSource("kinds")
  void oneRowPerResponseWithItsCostAndReportTotalsEqualTheRows(String kind) throws Exception {
    try (TestServer server = TestServer.start(TestState.open(kind, AccessSettings.open(), COST, Clock.systemUTC()))) {
      Map<String, Answer> answers = new LinkedHashMap<>();
      String chat = "/v1/chat/completions";
      for (JsonNode c : Fixture.cases()) {
        ObjectNode body = Fixture.chatRequest(c, server.modelName(), 12, false);
        TestServer.Reply r = server.post(chat, body.toString());
        assertEquals(200, r.status(), r.body());
        answers.put(id(r), new Answer(200, chat, c.path("images").size(), r.json().path("usage"),
            r.json().path("timings")));
        // The reservation for rate limits is never less than what the request used.
        int estimate = server.served.upperBoundTokens(
            new ChatRequestParser(server.served, server.config).parse(body).input());
        assertTrue(estimate >= r.json().path("usage").path("total_tokens").asInt(), c.path("name") + ": estimate "
            + estimate + " < used " + r.json().path("usage"));
      }
      for (String name : List.of("case0", "case3")) {
        JsonNode c = Fixture.caseNamed(name);
        TestServer.Reply r = server.post(chat, Fixture.chatRequest(c, server.modelName(), 12, true).toString());
        assertEquals(200, r.status(), r.body());
        JsonNode last = lastUsageChunk(r.body());
        answers.put(id(r), new Answer(200, chat, c.path("images").size(), last.path("usage"), last.path("timings")));
      }
      for (int i = 0; i < 2; i++) {
        TestServer.Reply r = server.post("/infer", LifecycleTest.shortInfer());
        assertEquals(200, r.status(), r.body());
        answers.put(id(r), new Answer(200, "/infer", 1, r.json().path("usage"), r.json().path("timings")));
      }
      // Failures after admission have rows too: invalid, unknown model, not JSON.
      answers.put(id(expect(server.post("/infer", "{\"image\": \"" + Fixture.base64("case0_0.png") + "\"}"), 400)),
          new Answer(400, "/infer", 0, null, null));
      answers.put(id(expect(server.post(chat, "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\","
          + " \"content\": \"hi\"}]}"), 404)), new Answer(404, chat, 0, null, null));
      answers.put(id(expect(server.post(chat, "{not json"), 400)), new Answer(400, chat, 0, null, null));
      // A client that leaves mid-stream: charged for what the engine did until it stopped.
      String gone = abandonedStream(server);

      Map<String, Map<String, Object>> rows = rows(server);
      for (int i = 0; i < 200 && !rows.containsKey(gone); i++) {
        Thread.sleep(25);
        rows = rows(server);
      }
      assertEquals(answers.size() + 1, rows.size(), "one row per response: " + rows.keySet() + " vs " + answers.keySet());
      Map<String, Object> abandoned = rows.get(gone);
      assertEquals(499, ((Number) abandoned.get("status")).intValue());
      assertEquals("cancelled", abandoned.get("finish_reason"));
      int done = ((Number) abandoned.get("completion_tokens")).intValue();
      assertTrue(done > 0 && done < 4000, "completion tokens of the abandoned stream: " + done);
      assertTrue(((Number) abandoned.get("cost")).doubleValue() > 0, "engine time is charged");

      for (var e : answers.entrySet()) {
        Map<String, Object> row = rows.get(e.getKey());
        Answer a = e.getValue();
        assertTrue(row != null, "no ledger row for " + e.getKey());
        assertEquals(a.status(), num(row, "status").intValue(), e.getKey());
        assertEquals(a.route(), row.get("route"));
        assertEquals(server.modelName(), row.get("model"));
        assertEquals("127.0.0.1", row.get("client_ip"));
        assertNull(row.get("key_id"));
        assertEquals("CNY", row.get("currency"));
        if (a.status() != 200) {
          assertEquals(0, num(row, "text_tokens").intValue() + num(row, "completion_tokens").intValue());
          assertEquals(0.0, num(row, "cost").doubleValue());
          assertNull(row.get("finish_reason"));
          continue;
        }
        JsonNode u = a.usage();
        int image = u.path("prompt_tokens_details").path("image_tokens").asInt();
        int prompt = u.path("prompt_tokens").asInt();
        int completion = u.path("completion_tokens").asInt();
        assertEquals(image, num(row, "image_tokens").intValue());
        assertEquals(prompt - image, num(row, "text_tokens").intValue());
        assertEquals(completion, num(row, "completion_tokens").intValue());
        assertEquals(u.path("prompt_tokens_details").path("cached_tokens").asInt(-1),
            num(row, "cached_tokens").intValue(), "the ledger records the prefix-cache tokens the response reports");
        assertEquals("length", row.get("finish_reason"));
        assertEquals(a.images(), num(row, "image_count").intValue());
        String hashes = (String) row.get("image_hashes");
        if (a.images() == 0) {
          assertNull(hashes);
        } else {
          assertTrue(hashes.matches("[0-9a-f]{64}(,[0-9a-f]{64})*") && hashes.split(",").length == a.images(), hashes);
        }
        // Busy time is the engine's: preprocessing, vision, prefill and decoding.
        double busy = num(row, "busy_ms").doubleValue();
        JsonNode t = a.timings();
        double stages = t.path("preprocess_ms").asDouble() + t.path("vision_ms").asDouble()
            + t.path("prefill_ms").asDouble() + t.path("decode_ms").asDouble();
        assertEquals(stages, busy, 0.003, "busy ms " + e.getKey());
        assertTrue(num(row, "latency_ms").doubleValue() >= busy);
        // The cost arithmetic on these inputs, and the response says the same amount.
        double cost = busy / 3_600_000.0 * 36 + prompt * 2 / 1e6 + completion * 8 / 1e6;
        double reference = prompt * 1.1 / 1e6 + completion * 4.4 / 1e6;
        assertEquals(cost, num(row, "cost").doubleValue(), 1e-15);
        assertEquals(reference, num(row, "reference_cost").doubleValue(), 1e-15);
        assertEquals(num(row, "cost").doubleValue(), u.path("cost").path("amount").asDouble(), e.getKey());
        assertEquals(reference, u.path("cost").path("reference_amount").asDouble(), 1e-15);
        assertEquals("CNY", u.path("cost").path("currency").asText());
      }

      // The report's totals are the sums of the rows, for every grouping, and of its groups.
      for (String groupBy : List.of("day", "key", "model")) {
        TestServer.Reply r = server.get("/v1/usage?group_by=" + groupBy);
        assertEquals(200, r.status(), r.body());
        JsonNode report = r.json();
        assertEquals(groupBy, report.path("group_by").asText());
        assertEquals("CNY", report.path("currency").asText());
        JsonNode total = report.path("total");
        assertEquals(rows.size(), total.path("requests").asLong());
        assertEquals(rows.values().stream().filter(x -> num(x, "status").intValue() >= 400).count(),
            total.path("errors").asLong());
        for (String col : List.of("text_tokens", "image_tokens", "cached_tokens", "completion_tokens")) {
          assertEquals(sum(rows, x -> num(x, col).doubleValue()), total.path(col).asDouble(), 0, col);
          double groups = 0;
          for (JsonNode g : report.path("data")) {
            groups += g.path(col).asDouble();
          }
          assertEquals(total.path(col).asDouble(), groups, 0, col + " over the groups");
        }
        for (String col : List.of("busy_ms", "cost", "reference_cost")) {
          double expected = sum(rows, x -> num(x, col).doubleValue());
          assertEquals(expected, total.path(col).asDouble(), Math.abs(expected) * 1e-12, col);
          double groups = 0;
          for (JsonNode g : report.path("data")) {
            groups += g.path(col).asDouble();
          }
          assertEquals(expected, groups, Math.abs(expected) * 1e-12, col + " over the groups");
        }
        double cost = total.path("cost").asDouble();
        assertEquals(cost / rows.size() * 1000, total.path("cost_per_1000_requests").asDouble(), cost * 1e-12);
        assertEquals(total.path("reference_cost").asDouble() - cost, total.path("saving").asDouble(), 1e-15);
        JsonNode latency = total.path("latency_ms");
        assertTrue(latency.path("p50").asDouble() > 0 && latency.path("p50").asDouble() <= latency.path("p95").asDouble()
            && latency.path("p95").asDouble() <= latency.path("p99").asDouble(), latency.toString());
      }
      // Days are the rows' UTC days.
      List<String> days = rows.values().stream().map(x -> java.time.Instant.ofEpochMilli(num(x, "ts_ms").longValue())
          .atOffset(java.time.ZoneOffset.UTC).toLocalDate().toString()).distinct().sorted().toList();
      List<String> reported = new java.util.ArrayList<>();
      server.get("/v1/usage?group_by=day").json().path("data").forEach(d -> reported.add(d.path("group").asText()));
      assertEquals(days, reported);
      JsonNode byModel = server.get("/v1/usage?group_by=model").json().path("data");
      assertEquals(server.modelName(), byModel.get(0).path("group").asText());
      // Bad queries are 400s naming the parameter.
      TestServer.Reply bad = server.get("/v1/usage?group_by=week");
      assertEquals(400, bad.status());
      assertEquals("group_by", bad.json().path("error").path("param").asText());
      bad = server.get("/v1/usage?from=yesterday");
      assertEquals(400, bad.status());
      assertEquals("from", bad.json().path("error").path("param").asText());
      assertEquals(400, server.get("/v1/usage?from=2026-11-02&to=2026-11-01").status());
      // A range before any request has none.
      JsonNode empty = server.get("/v1/usage?from=2020-01-01&to=2020-01-31").json();
      assertEquals(0, empty.path("total").path("requests").asLong());
      assertEquals(0, empty.path("data").size());
    }
  }

  static TestServer.Reply expect(TestServer.Reply r, int status) {
    assertEquals(status, r.status(), r.body());
    return r;
  }

  static String id(TestServer.Reply r) {
    String id = r.response().headers().firstValue("X-Request-Id").orElseThrow(() -> new AssertionError(
        "no X-Request-Id on " + r.status() + " " + r.body()));
    if (r.status() == 200 && !r.body().startsWith("data:")) {
      assertEquals(id, r.json().path("id").asText(), "the header names the response's id");
    }
    return id;
  }

  /** The chunk of a streamed response that carries usage. */
  static JsonNode lastUsageChunk(String sse) throws Exception {
    JsonNode found = null;
    for (String line : sse.split("\n")) {
      if (line.startsWith("data: {")) {
        JsonNode chunk = Fixture.JSON.readTree(line.substring(6));
        if (chunk.has("usage")) {
          found = chunk;
        }
      }
    }
    assertTrue(found != null, "no usage chunk in " + sse);
    assertTrue(sse.strip().endsWith("data: [DONE]"));
    return found;
  }

  /** Starts a long stream, reads its id and a few chunks, and hangs up; returns the id. */
  static String abandonedStream(TestServer server) throws Exception {
    try (Socket s = LifecycleTest.rawPost(server, "/v1/chat/completions", LifecycleTest.longChat(server, true))) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String id = null;
      int chunks = 0;
      String line;
      while ((line = in.readLine()) != null && chunks < 3) {
        if (line.toLowerCase().startsWith("x-request-id:")) {
          id = line.substring(line.indexOf(':') + 1).strip();
        }
        if (line.startsWith("data: ") && line.contains("\"content\":\"") && !line.contains("\"role\"")) {
          chunks++;
        }
      }
      assertTrue(id != null && chunks == 3, "the stream started with an id");
      return id;
    }
  }

  static Number num(Map<String, Object> row, String col) {
    return (Number) row.get(col);
  }

  static double sum(Map<String, Map<String, Object>> rows, ToDoubleFunction<Map<String, Object>> f) {
    return rows.values().stream().mapToDouble(f).sum();
  }

  /** Every ledger row, by request id, read straight from the database. */
  static Map<String, Map<String, Object>> rows(TestServer server) throws Exception {
    Map<String, Map<String, Object>> out = new HashMap<>();
    try (var c = server.state.db.connection(); var st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM usage_records")) {
      var meta = rs.getMetaData();
      while (rs.next()) {
        Map<String, Object> row = new HashMap<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          row.put(meta.getColumnName(i).toLowerCase(), rs.getObject(i));
        }
        Object previous = out.put((String) row.get("request_id"), row);
        assertNull(previous, "request id twice: " + row.get("request_id"));
      }
    }
    return out;
  }
}
