package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.server.state.Database;
import dev.glance.server.state.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code glance serve} as a process with its state: killed with SIGKILL under concurrent load, its
 * ledger (SQLite in the data directory, or PostgreSQL by --database) holds exactly one row for
 * every request that was answered 200 and none twice; restarted on the same state, GET /v1/usage
 * and {@code glance usage --json} give the same report (priced by the data directory's
 * settings.json); with --require-keys nothing is served without a key, a key made with {@code
 * glance keys create} while the server runs works at once, and is refused once revoked.
 */
class ServeStateTest {
  static final int CLIENTS = 6;

  @TempDir Path tmp;

  static List<String> kinds() {
    return TestDatabases.kinds();
  }

  static String infer(int maxTokens) throws Exception {
    String png = Base64.getEncoder().encodeToString(Files.readAllBytes(ServeCommandTest.FIXTURE.resolve("case0_0.png")));
    return "{\"image\": \"" + png + "\", \"text\": \"What is in this picture?\", \"max_tokens\": " + maxTokens
        + ", \"ignore_eos\": true}";
  }

  static HttpRequest post(int port, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/infer"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
        .timeout(Duration.ofSeconds(60));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return b.build();
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void killDashNineLosesNoAnsweredRequestAndDoublesNone(String kind) throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    // SQLite: the default file in the data directory; PostgreSQL: a fresh schema named by --database.
    String url = kind.equals("sqlite") ? "jdbc:sqlite:" + data.resolve("glance.db") : TestDatabases.postgresSchema();
    String[] state = kind.equals("sqlite") ? new String[] {"--data-dir", data.toString()}
        : new String[] {"--data-dir", data.toString(), "--database", url};
    Instant from = Instant.now().minusSeconds(60);
    // A priced server whose "ops" key is an admin (settings.json in the data directory).
    Files.writeString(data.resolve("settings.json"), """
        {"cost": {"currency": "CNY", "hardware_per_month": 1200,
                  "reference": {"name": "api", "input_per_million": 2.0, "output_per_million": 8.0}},
         "access": {"admin_keys": ["ops"]}}""");
    try {
      Process serve = ServeCommandTest.startServe(concat(state, "--request-log", ""));
      int port = ServeCommandTest.awaitServing(serve, new ArrayList<>());
      Set<String> answered = ConcurrentHashMap.newKeySet();
      AtomicInteger sent = new AtomicInteger();
      String body = infer(6);
      // Every request runs the engine (a response-cache hit would cost nothing and prove less).
      List<Thread> clients = new ArrayList<>();
      try (HttpClient http = HttpClient.newHttpClient()) {
        for (int c = 0; c < CLIENTS; c++) {
          clients.add(Thread.ofPlatform().start(() -> {
            while (serve.isAlive()) {
              sent.incrementAndGet();
              try {
                HttpResponse<String> r = http.send(post(port, body, "Cache-Control", "no-cache"),
                    HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                  JsonNode cost = AskCommandTest.JSON.readTree(r.body()).path("usage").path("cost");
                  if (cost.path("currency").asText().equals("CNY") && cost.path("amount").asDouble() > 0) {
                    answered.add(r.headers().firstValue("X-Request-Id").orElseThrow());
                  }
                }
              } catch (Exception e) {
                // Cut off by the kill: this request got no response.
              }
            }
          }));
        }
        // Mid-load: clients keep sending while the process dies without shutting down.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (answered.size() < 60 && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        serve.destroyForcibly();
        assertTrue(serve.waitFor(30, TimeUnit.SECONDS), "the server did not die");
        for (Thread t : clients) {
          t.join(Duration.ofSeconds(70));
        }
      }
      assertTrue(answered.size() >= 60, "only " + answered.size() + " priced answers before the kill");

      Map<String, Integer> rows = new HashMap<>();
      try (Database db = Database.open(url); var c = db.connection(); var st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT request_id, status FROM usage_records")) {
        while (rs.next()) {
          Integer before = rows.put(rs.getString(1), rs.getInt(2));
          assertEquals(null, before, "request " + rs.getString(1) + " has two rows");
        }
      }
      for (String id : answered) {
        assertEquals(200, rows.get(id), "answered request " + id + " has no 200 row after kill -9");
      }
      // Requests cut off mid-flight may have a row (the engine finished them), never more than were sent.
      assertTrue(rows.size() >= answered.size() && rows.size() <= sent.get(), rows.size() + " rows, "
          + answered.size() + " answered, " + sent.get() + " sent");

      // Restarted on the same state, now requiring keys although none exists yet: the admin key's
      // HTTP report and glance usage agree, and see every row.
      Process again = ServeCommandTest.startServe(concat(state, "--request-log", "", "--require-keys"));
      try (HttpClient http = HttpClient.newHttpClient()) {
        int port2 = ServeCommandTest.awaitServing(again, new ArrayList<>());
        HttpResponse<String> anonymous = http.send(post(port2, infer(2)), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertTrue(anonymous.body().contains("\"type\":\"authentication_error\""), anonymous.body());
        AskCommandTest.Run ops = AskCommandTest.ask(List.of(concat(new String[] {"keys", "create", "--name", "ops"},
            state)));
        assertEquals(0, ops.code(), ops.err());
        String range = "from=" + from + "&to=" + Instant.now().plusSeconds(60);
        String query = "/v1/usage?group_by=day&" + range;
        HttpResponse<String> report = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port2
            + query)).header("Authorization", "Bearer " + ops.out().strip()).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, report.statusCode(), report.body());
        JsonNode viaHttp = AskCommandTest.JSON.readTree(report.body());
        assertEquals(rows.size(), viaHttp.path("total").path("requests").asInt());
        assertEquals("CNY", viaHttp.path("currency").asText());
        assertTrue(viaHttp.path("total").path("cost").asDouble() > 0, viaHttp.toString());
        String[] bounds = range.replace("from=", "").replace("to=", "").split("&");
        AskCommandTest.Run cli = AskCommandTest.ask(List.of(concat(concat(new String[] {"usage", "--json",
            "--group-by", "day", "--from", bounds[0], "--to", bounds[1]}, state))));
        assertEquals(0, cli.code(), cli.err());
        assertEquals(viaHttp, AskCommandTest.JSON.readTree(cli.out()), "glance usage and GET /v1/usage differ");

        keysMadeByTheCliApplyToTheRunningServer(http, port2, state);
      } finally {
        again.destroy();
        again.waitFor(30, TimeUnit.SECONDS);
      }
    } finally {
      TestDatabases.cleanup(url);
    }
  }

  /** A key made by {@code glance keys create} works at once; once revoked it is refused. */
  static void keysMadeByTheCliApplyToTheRunningServer(HttpClient http, int port, String[] state) throws Exception {
    String body = infer(2);
    AskCommandTest.Run created = AskCommandTest.ask(List.of(concat(new String[] {"keys", "create", "--name", "ci",
        "--rpm", "100"}, state)));
    assertEquals(0, created.code(), created.err());
    String secret = created.out().strip();
    assertTrue(secret.startsWith("glk_"), created.out());
    HttpResponse<String> anonymous = http.send(post(port, body), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, anonymous.statusCode(), anonymous.body());
    assertTrue(anonymous.body().contains("\"type\":\"authentication_error\""), anonymous.body());
    assertEquals(200, http.send(post(port, body, "Authorization", "Bearer " + secret),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    AskCommandTest.Run listed = AskCommandTest.ask(List.of(concat(new String[] {"keys", "list"}, state)));
    assertTrue(listed.out().contains("ci") && listed.out().contains("active") && listed.out().contains("rpm=100")
        && !listed.out().contains(secret), listed.out());
    AskCommandTest.Run revoked = AskCommandTest.ask(List.of(concat(new String[] {"keys", "revoke", "ci"}, state)));
    assertEquals(0, revoked.code(), revoked.err());
    HttpResponse<String> refused = http.send(post(port, body, "Authorization", "Bearer " + secret),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(401, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("revoked"), refused.body());
  }

  static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
