package dev.glance.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.glance.server.Fixture;
import dev.glance.server.ManualClock;
import dev.glance.server.TestServer;
import dev.glance.server.TestState;
import dev.glance.server.security.AccessSettings;
import dev.glance.server.security.CidrRange;
import dev.glance.server.security.IpAllowList;
import dev.glance.server.security.KeyLimits;
import dev.glance.server.security.KeyStore;
import dev.glance.server.usage.CostModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Access control through the real server on loopback: every key case, the IP allow-list with and
 * without a trusted proxy, each rate limit hit (429 with Retry-After naming the limit) and
 * recovered after its window (a clock the test moves), and many clients at once never getting
 * more than a limit allows. Refusals carry OpenAI error bodies and never reach the usage ledger.
 */
class AccessApiTest {
  /** A price that makes every request cost something: 36 an hour = 0.01 a second of engine time. */
  static final CostModel PRICED = new CostModel("EUR", 36, 0, 0, new CostModel.Reference("ref", 1, 2));

  static AccessSettings settings(boolean requireKeys, List<String> allow, List<String> trustedProxies) {
    return new AccessSettings(requireKeys, IpAllowList.parse(allow),
        trustedProxies.stream().map(CidrRange::parse).toList(), KeyLimits.none(), List.of("ops"), false);
  }

  static KeyLimits limits(Integer rpm, Integer tpm, Integer concurrent, Double budget) {
    return new KeyLimits(rpm == null ? OptionalInt.empty() : OptionalInt.of(rpm),
        tpm == null ? OptionalInt.empty() : OptionalInt.of(tpm),
        concurrent == null ? OptionalInt.empty() : OptionalInt.of(concurrent),
        budget == null ? OptionalDouble.empty() : OptionalDouble.of(budget), KeyLimits.BudgetPeriod.DAY);
  }

  static String infer(int maxTokens) {
    ObjectNode r = InferApiTest.request("case0_0.png", "What is in this picture?");
    r.put("max_tokens", maxTokens);
    r.put("ignore_eos", true);
    return r.toString();
  }

  /** A text-only chat request that generates exactly {@code maxTokens} tokens. */
  static String chat(TestServer server, int maxTokens) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("model", server.modelName());
    r.put("max_tokens", maxTokens);
    r.put("ignore_eos", true);
    r.putArray("messages").addObject().put("role", "user").put("content", "Say hello.");
    return r.toString();
  }

  static String[] bearer(String secret) {
    return new String[] {"Authorization", "Bearer " + secret};
  }

  /** An OpenAI error body with this status, type and code; returns its message. */
  static String refused(TestServer.Reply r, int status, String type, String code) {
    assertEquals(status, r.status(), r.body());
    JsonNode e = r.json().path("error");
    assertEquals(type, e.path("type").asText(), r.body());
    assertEquals(code, e.path("code").asText(), r.body());
    assertTrue(e.has("param") && e.path("message").asText().length() > 10, r.body());
    return e.path("message").asText();
  }

  static long rows(TestServer server) throws Exception {
    try (var c = server.state.db.connection(); var st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM usage_records")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void everyKeyCase() throws Exception {
    ManualClock clock = new ManualClock();
    try (TestServer server = TestServer.start(TestState.open("sqlite", settings(false, List.of(), List.of()), PRICED,
        clock))) {
      // No key exists and none is required: today's single-user behaviour.
      assertEquals(200, server.post("/infer", infer(2)).status());
      KeyStore keys = server.state.keys;
      var alice = keys.create("alice", KeyLimits.none(), Optional.empty());
      var temp = keys.create("temp", KeyLimits.none(), Optional.of(clock.instant().plusSeconds(60)));
      var gone = keys.create("gone", KeyLimits.none(), Optional.empty());
      // A budget smaller than one request's cost: the first request spends it.
      var broke = keys.create("broke", limits(null, null, null, 1e-9), Optional.empty());
      assertTrue(keys.revoke("gone"));
      long before = rows(server);

      String m = refused(server.post("/infer", infer(2)), 401, "authentication_error", "missing_api_key");
      assertTrue(m.contains("Authorization: Bearer"), m);
      refused(server.post("/infer", infer(2), bearer("glk_not-a-key")), 401, "authentication_error", "invalid_api_key");
      refused(server.post("/infer", infer(2), bearer("sk-something-else")), 401, "authentication_error",
          "invalid_api_key");
      m = refused(server.post("/infer", infer(2), bearer(gone.secret())), 401, "authentication_error", "invalid_api_key");
      assertTrue(m.contains("revoked"), m);
      assertEquals(200, server.post("/infer", infer(2), bearer(temp.secret())).status());
      clock.advance(Duration.ofSeconds(61));
      m = refused(server.post("/infer", infer(2), bearer(temp.secret())), 401, "authentication_error", "invalid_api_key");
      assertTrue(m.contains("expired"), m);
      // Bypass the response cache: a cached answer costs no engine time, and this one must cost.
      TestServer.Reply spent = server.post("/infer", infer(2), "Authorization", "Bearer " + broke.secret(),
          "Cache-Control", "no-cache");
      assertEquals(200, spent.status(), spent.body());
      assertTrue(spent.json().path("usage").path("cost").path("amount").asDouble() > 1e-9, spent.body());
      m = refused(server.post("/infer", infer(2), bearer(broke.secret())), 403, "insufficient_quota", "budget_exhausted");
      assertTrue(m.contains("budget"), m);
      // A good key, as a Bearer token and as x-api-key; the request log names the key.
      TestServer.Reply ok = server.post("/infer", infer(2), bearer(alice.secret()));
      assertEquals(200, ok.status(), ok.body());
      assertEquals(alice.key().id(), server.logOf(ok.json().path("id").asText()).path("key").asText());
      assertEquals(200, server.post("/infer", infer(2), "x-api-key", alice.secret()).status());
      // The same on the chat route, through the official SDK: its exceptions are the OpenAI kinds.
      OpenAIClient anonymous = sdk(server, "sk-wrong");
      OpenAIClient good = sdk(server, alice.secret());
      OpenAIClient poor = sdk(server, broke.secret());
      try {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model(server.modelName())
            .maxCompletionTokens(2).addUserMessage("Hello").build();
        UnauthorizedException e = assertThrows(UnauthorizedException.class, () -> anonymous.chat().completions().create(p));
        assertTrue(e.getMessage().contains("not valid"), e.getMessage());
        assertThrows(PermissionDeniedException.class, () -> poor.chat().completions().create(p));
        assertEquals(2, good.chat().completions().create(p).usage().orElseThrow().completionTokens());
      } finally {
        anonymous.close();
        good.close();
        poor.close();
      }
      // Refused requests are not usage: the ledger gained only the five that were answered.
      assertEquals(before + 5, rows(server));

      // /health stays public, /v1/models needs a key, /metrics is open (metrics_need_admin is off).
      assertEquals(200, server.get("/health").status());
      refused(server.get("/v1/models"), 401, "authentication_error", "missing_api_key");
      assertEquals(200, server.get("/v1/models", bearer(alice.secret())).status());
      assertEquals(200, server.get("/metrics").status());
      // /v1/usage: alice (not an admin) sees her own usage only; "ops" (an admin key) sees all.
      refused(server.get("/v1/usage"), 401, "authentication_error", "missing_api_key");
      JsonNode own = server.get("/v1/usage?group_by=key", bearer(alice.secret())).json();
      assertEquals(alice.key().id(), own.path("key_id").asText(), own.toString());
      assertEquals(3, own.path("total").path("requests").asLong(), own.toString());
      refused(server.get("/v1/usage?key=" + broke.key().id(), bearer(alice.secret())), 403, "permission_denied",
          "admin_required");
      var ops = keys.create("ops", KeyLimits.none(), Optional.empty());
      JsonNode all = server.get("/v1/usage?group_by=key", bearer(ops.secret())).json();
      assertFalse(all.has("key_id"), all.toString());
      assertEquals(rows(server), all.path("total").path("requests").asLong(), all.toString());
    }
  }

  static OpenAIClient sdk(TestServer server, String key) {
    return OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey(key).timeout(Duration.ofSeconds(60))
        .maxRetries(0).build();
  }

  @Test
  void allowListAndForwardedAddresses() throws Exception {
    // Glance behind a proxy on this machine: only clients the proxy forwards from 10/8 may call.
    try (TestServer behindProxy = TestServer.start(TestState.open("sqlite",
        settings(false, List.of("10.0.0.0/8", "fd00::/8"), List.of("127.0.0.1/32")), CostModel.free(),
        new ManualClock()))) {
      String m = refused(behindProxy.post("/infer", infer(2)), 403, "permission_denied", "ip_not_allowed");
      assertTrue(m.contains("127.0.0.1"), m);
      assertEquals(200, behindProxy.post("/infer", infer(2), "X-Forwarded-For", "10.1.2.3").status());
      assertEquals(200, behindProxy.post("/infer", infer(2), "X-Forwarded-For", "fd00::7").status());
      // The client is the rightmost hop that is not a trusted proxy: a prefix the client wrote is not believed.
      refused(behindProxy.post("/infer", infer(2), "X-Forwarded-For", "10.9.9.9, 192.168.1.5"), 403,
          "permission_denied", "ip_not_allowed");
      TestServer.Reply forwarded = behindProxy.post("/infer", infer(2), "X-Forwarded-For", "192.168.1.5, 10.1.2.3");
      assertEquals(200, forwarded.status(), forwarded.body());
      assertEquals("10.1.2.3", behindProxy.logOf(forwarded.json().path("id").asText()).path("client").asText());
      // The page and /v1/models follow the allow-list; /health does not.
      refused(behindProxy.get("/"), 403, "permission_denied", "ip_not_allowed");
      assertEquals(200, behindProxy.get("/", "X-Forwarded-For", "10.1.2.3").status());
      assertEquals(200, behindProxy.get("/health").status());
    }
    // No trusted proxy: the header is anyone's to forge, so it is ignored.
    try (TestServer direct = TestServer.start(TestState.open("sqlite",
        settings(false, List.of("10.0.0.0/8"), List.of("192.0.2.1/32")), CostModel.free(), new ManualClock()))) {
      refused(direct.post("/infer", infer(2), "X-Forwarded-For", "10.1.2.3"), 403, "permission_denied",
          "ip_not_allowed");
      assertEquals(0, rows(direct));
    }
    try (TestServer local = TestServer.start(TestState.open("sqlite",
        settings(false, List.of("127.0.0.1/32", "::1/128"), List.of()), CostModel.free(), new ManualClock()))) {
      assertEquals(200, local.post("/infer", infer(2)).status());
    }
  }

  @Test
  void eachRateLimitIsHitAndRecoveredAfterItsWindow() throws Exception {
    ManualClock clock = new ManualClock();
    try (TestServer server = TestServer.start(TestState.open("sqlite", settings(true, List.of(), List.of()),
        CostModel.free(), clock))) {
      KeyStore keys = server.state.keys;
      // Requests per minute.
      var rpm = keys.create("rpm", limits(2, null, null, null), Optional.empty());
      assertEquals(200, server.post("/infer", infer(2), bearer(rpm.secret())).status());
      clock.advance(Duration.ofSeconds(20));
      assertEquals(200, server.post("/infer", infer(2), bearer(rpm.secret())).status());
      TestServer.Reply limited = server.post("/infer", infer(2), bearer(rpm.secret()));
      String m = refused(limited, 429, "rate_limit_error", "rate_limit_exceeded");
      assertTrue(m.contains("2 requests per minute"), m);
      // The first request leaves the window 60 s after it came, 40 s from now.
      assertEquals("40", limited.response().headers().firstValue("Retry-After").orElseThrow());
      clock.advance(Duration.ofSeconds(40));
      assertEquals(200, server.post("/infer", infer(2), bearer(rpm.secret())).status());

      // Tokens per minute: the estimate is reserved at admission, settled to what was used.
      int estimate = server.served.upperBoundTokens(new InferRequestParser(server.served, server.config)
          .parse(Fixture.JSON.readTree(infer(12))));
      var tpm = keys.create("tpm", limits(null, estimate + 20, null, null), Optional.empty());
      TestServer.Reply first = server.post("/infer", infer(12), bearer(tpm.secret()));
      assertEquals(200, first.status(), first.body());
      int used = first.json().path("usage").path("total_tokens").asInt();
      assertTrue(used > 20 && used <= estimate, "used " + used + ", estimated " + estimate);
      limited = server.post("/infer", infer(12), bearer(tpm.secret()));
      m = refused(limited, 429, "rate_limit_error", "rate_limit_exceeded");
      assertTrue(m.contains("tokens per minute") && m.contains(used + " used"), m);
      assertEquals("60", limited.response().headers().firstValue("Retry-After").orElseThrow());
      // A request that could never fit names max_tokens.
      m = refused(server.post("/infer", infer(100), bearer(tpm.secret())), 429, "rate_limit_error",
          "rate_limit_exceeded");
      assertTrue(m.contains("more than the limit") && m.contains("max_tokens"), m);
      clock.advance(Duration.ofSeconds(61));
      assertEquals(200, server.post("/infer", infer(12), bearer(tpm.secret())).status());

      // Concurrent requests: one long generation holds the only slot until it ends.
      var one = keys.create("one", limits(null, null, 1, null), Optional.empty());
      HttpClient http = HttpClient.newHttpClient();
      CompletableFuture<HttpResponse<String>> running = http.sendAsync(HttpRequest.newBuilder(
          URI.create(server.url("/infer"))).header("Authorization", "Bearer " + one.secret())
          .POST(HttpRequest.BodyPublishers.ofString(infer(3000))).build(), HttpResponse.BodyHandlers.ofString());
      server.awaitRunning(1);
      limited = server.post("/infer", infer(2), bearer(one.secret()));
      m = refused(limited, 429, "rate_limit_error", "rate_limit_exceeded");
      assertTrue(m.contains("concurrent"), m);
      assertEquals("1", limited.response().headers().firstValue("Retry-After").orElseThrow());
      assertEquals(200, running.get(120, TimeUnit.SECONDS).statusCode());
      assertEquals(200, server.post("/infer", infer(2), bearer(one.secret())).status());
      http.close();
    }
  }

  @Test
  void withKeysOffLimitsApplyPerAddressAndMetricsCanNeedAnAdmin() throws Exception {
    ManualClock clock = new ManualClock();
    AccessSettings perIp = new AccessSettings(false, IpAllowList.everyone(), List.of(CidrRange.parse("127.0.0.1")),
        limits(2, null, null, null), List.of("ops"), true);
    try (TestServer server = TestServer.start(TestState.open("sqlite", perIp, CostModel.free(), clock))) {
      // Each client address has its own 2 requests a minute.
      assertEquals(200, server.post("/infer", infer(2)).status());
      assertEquals(200, server.post("/infer", infer(2)).status());
      refused(server.post("/infer", infer(2)), 429, "rate_limit_error", "rate_limit_exceeded");
      assertEquals(200, server.post("/infer", infer(2), "X-Forwarded-For", "10.0.0.1").status());
      clock.advance(Duration.ofSeconds(61));
      assertEquals(200, server.post("/infer", infer(2)).status());
      // Keys off: a client on this machine is the admin; a forwarded one is not.
      assertEquals(200, server.get("/metrics").status());
      assertEquals(200, server.get("/v1/usage").status());
      refused(server.get("/metrics", "X-Forwarded-For", "10.0.0.1"), 403, "permission_denied", "admin_required");
      refused(server.get("/v1/usage", "X-Forwarded-For", "10.0.0.1"), 403, "permission_denied", "admin_required");
      // Keys on: only the admin key.
      var alice = server.state.keys.create("alice", KeyLimits.none(), Optional.empty());
      var ops = server.state.keys.create("ops", KeyLimits.none(), Optional.empty());
      refused(server.get("/metrics"), 401, "authentication_error", "missing_api_key");
      refused(server.get("/metrics", bearer(alice.secret())), 403, "permission_denied", "admin_required");
      TestServer.Reply metrics = server.get("/metrics", bearer(ops.secret()));
      assertEquals(200, metrics.status());
      assertTrue(metrics.body().contains("glance_http_requests_total"), metrics.body());
    }
  }

  @Test
  void manyClientsAtOnceNeverExceedALimit() throws Exception {
    ManualClock clock = new ManualClock();
    try (TestServer server = TestServer.start(TestState.open("sqlite", settings(true, List.of(), List.of()),
        CostModel.free(), clock))) {
      KeyStore keys = server.state.keys;
      // Requests per minute: the clock stands still, so exactly 5 of 16 get in.
      var rpm = keys.create("rpm", limits(5, null, null, null), Optional.empty());
      List<TestServer.Reply> replies = burst(server, 16, "/infer", infer(2), rpm.secret());
      assertEquals(5, replies.stream().filter(r -> r.status() == 200).count(), statuses(replies));
      assertEquals(11, replies.stream().filter(r -> r.status() == 429).count(), statuses(replies));

      // Tokens per minute: whatever order they come in, the tokens of the admitted requests fit. A
      // text-only request that runs to max_tokens uses nearly its estimate, so admitting a fourth
      // would go over.
      String chat = chat(server, 500);
      int estimate = server.served.upperBoundTokens(new ChatRequestParser(server.served, server.config)
          .parse(Fixture.JSON.readTree(chat)).input());
      int limit = 3 * estimate;
      var tpm = keys.create("tpm", limits(null, limit, null, null), Optional.empty());
      replies = burst(server, 12, "/v1/chat/completions", chat, tpm.secret());
      long admitted = replies.stream().filter(r -> r.status() == 200).count();
      long tokens = replies.stream().filter(r -> r.status() == 200)
          .mapToLong(r -> r.json().path("usage").path("total_tokens").asLong()).sum();
      assertTrue(admitted >= 3, statuses(replies));
      assertTrue(tokens <= limit, tokens + " tokens admitted over a limit of " + limit + ": " + statuses(replies));
      assertTrue(4 * tokens / admitted > limit, "the test needs requests that use nearly their estimate");
      assertEquals(12 - admitted, replies.stream().filter(r -> r.status() == 429).count(), statuses(replies));

      // Concurrent requests: 8 long generations at once, 2 slots.
      var two = keys.create("two", limits(null, null, 2, null), Optional.empty());
      replies = burst(server, 8, "/infer", infer(3000), two.secret());
      assertEquals(2, replies.stream().filter(r -> r.status() == 200).count(), statuses(replies));
      for (TestServer.Reply r : replies) {
        if (r.status() == 429) {
          assertTrue(r.json().path("error").path("message").asText().contains("concurrent"), r.body());
        }
      }
    }
  }

  @Test
  void aLostStateDatabaseIsA503AndTheServerLivesOn() throws Exception {
    try (TestServer server = TestServer.start(TestState.sqlite())) {
      assertEquals(200, server.post("/infer", infer(2)).status());
      server.state.db.close();
      String m = refused(server.post("/infer", infer(2)), 503, "server_error", "storage_unavailable");
      assertTrue(m.contains("state database"), m);
      refused(server.get("/v1/usage"), 503, "server_error", "storage_unavailable");
      assertEquals(200, server.get("/health").status());
    }
  }

  /** {@code n} requests sent at the same moment from {@code n} threads. */
  static List<TestServer.Reply> burst(TestServer server, int n, String path, String body, String secret)
      throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<TestServer.Reply>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CompletableFuture<TestServer.Reply> f = new CompletableFuture<>();
      calls.add(f);
      Thread.ofPlatform().start(() -> {
        try {
          go.await();
          f.complete(server.post(path, body, bearer(secret)));
        } catch (Throwable t) {
          f.completeExceptionally(t);
        }
      });
    }
    go.countDown();
    List<TestServer.Reply> out = new ArrayList<>();
    for (var f : calls) {
      out.add(f.get(120, TimeUnit.SECONDS));
    }
    return out;
  }

  static String statuses(List<TestServer.Reply> replies) {
    return replies.stream().map(r -> r.status() + (r.status() == 200 ? "" : " " + r.json().path("error")
        .path("message").asText())).toList().toString();
  }
}
