package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.server.Fixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code glance serve} as a process: its greedy answers are {@code glance ask}'s token ids for the
 * same fixture case, and SIGTERM stops it gracefully (the in-flight request completes, new
 * connections are refused, the process exits).
 */
class ServeCommandTest {
  static final Path FIXTURE = AskCommandTest.FIXTURE;
  static Process serve;
  static int port;
  static final List<String> stderr = new ArrayList<>();
  static final HttpClient http = HttpClient.newHttpClient();

  /** Data directories of this class's servers, so that no test touches ~/.glance. */
  @TempDir static Path state;

  /**
   * {@code glance serve} on the fixture, on a free port, with {@code extra} flags, which must name
   * its data directory (a test's temporary one).
   */
  static Process startServe(String... extra) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.glance.cli.Main",
        "serve", "--model", FIXTURE.toString(), "--port", "0"));
    cmd.addAll(List.of(extra));
    if (!cmd.contains("--data-dir")) {
      throw new IllegalArgumentException("tests give glance serve a --data-dir of their own");
    }
    return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** Reads stderr until the server says it serves; returns its port. */
  static int awaitServing(Process p, List<String> lines) throws IOException {
    BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
    Pattern serving = Pattern.compile("glance: serving .* at http://127\\.0\\.0\\.1:(\\d+)/");
    String line;
    while ((line = err.readLine()) != null) {
      lines.add(line);
      Matcher m = serving.matcher(line);
      if (m.find()) {
        Thread.ofVirtual().start(() -> err.lines().forEach(lines::add));
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("glance serve ended without serving: " + lines);
  }

  @BeforeAll
  static void start() throws IOException {
    serve = startServe("--data-dir", state.resolve("shared").toString());
    port = awaitServing(serve, stderr);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    serve.destroy();
    serve.waitFor(30, TimeUnit.SECONDS);
    http.close();
  }

  static List<String> singleTurnCases() throws IOException {
    return AskCommandTest.singleTurnCases();
  }

  /** The fixture case as a chat request: greedy, end tokens ignored, ids returned. */
  static String chat(JsonNode c, boolean stream, int maxTokens) {
    return Fixture.chatRequest(c, FIXTURE.getFileName().toString(), maxTokens, stream)
        .put("return_token_ids", true).toString();
  }

  static HttpRequest post(int port, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
        .timeout(Duration.ofSeconds(60)).build();
  }

  @ParameterizedTest
  @MethodSource("singleTurnCases")
  void greedyAnswersEqualGlanceAsk(String name) throws Exception {
    JsonNode c = null;
    for (JsonNode x : AskCommandTest.expected().path("cases")) {
      if (x.path("name").asText().equals(name)) {
        c = x;
      }
    }
    AskCommandTest.Run ask = AskCommandTest.ask(AskCommandTest.argsFor(c));
    assertEquals(0, ask.code(), ask.err());
    int[] askIds = AskCommandTest.JSON.convertValue(AskCommandTest.JSON.readTree(ask.out()).path("token_ids"), int[].class);
    HttpResponse<String> r = http.send(post(port, chat(c, false, 12)), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = AskCommandTest.JSON.readTree(r.body());
    int[] apiIds = AskCommandTest.JSON.convertValue(body.path("choices").get(0).path("token_ids"), int[].class);
    assertArrayEquals(askIds, apiIds, name + ": the API and glance ask disagree");
    assertEquals(AskCommandTest.JSON.readTree(ask.out()).path("prompt_tokens").asInt(),
        body.path("usage").path("prompt_tokens").asInt());
  }

  @Test
  void sigtermLetsTheInFlightRequestFinishThenExits() throws Exception {
    List<String> lines = new ArrayList<>();
    Process p = startServe("--shutdown-grace", "60", "--data-dir", state.resolve("sigterm").toString());
    int p2 = awaitServing(p, lines);
    JsonNode c = AskCommandTest.expected().path("cases").get(0);
    CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(post(p2, chat(c, true, 3000)),
        HttpResponse.BodyHandlers.ofString());
    // Wait until it generates, then ask the process to stop, as an init system or Ctrl+C would.
    for (int i = 0; i < 500; i++) {
      HttpResponse<String> m = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p2 + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString());
      if (m.body().contains("glance_requests_running 1.0")) {
        break;
      }
      Thread.sleep(10);
    }
    p.destroy();
    HttpResponse<String> done = inFlight.get(60, TimeUnit.SECONDS);
    assertEquals(200, done.statusCode());
    assertTrue(done.body().contains("\"finish_reason\":\"length\""), "the request ran to its end");
    assertTrue(done.body().strip().endsWith("data: [DONE]"));
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the process exited");
    assertEquals(143, p.exitValue(), "exit status of a process ended by SIGTERM");
    try {
      http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p2 + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      throw new AssertionError("the server still answers after exiting");
    } catch (IOException expected) {
      // Connection refused: nothing listens any more.
    }
  }

  @Test
  void badFlagsAndModelsFailWithOneLine() {
    String data = state.resolve("bad-flags").toString();
    AskCommandTest.Run r = AskCommandTest.ask(List.of("serve", "--model", FIXTURE.toString(), "--port", "70000"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("port must be in 0..65535"), r.err());
    r = AskCommandTest.ask(List.of("serve", "--model", FIXTURE.resolve("nope").toString(), "--port", "0",
        "--request-log", "", "--data-dir", data));
    assertEquals(3, r.code(), r.err());
    assertTrue(r.err().contains("model directory not found"), r.err());
    r = AskCommandTest.ask(List.of("serve", "--model", FIXTURE.toString(), "--max-body-bytes", "lots"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("'lots' is not a size"), r.err());
  }
}
