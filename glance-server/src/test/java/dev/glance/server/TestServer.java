package dev.glance.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.runtime.BatchOptions;
import dev.glance.engine.runtime.BatchScheduler;
import dev.glance.engine.runtime.Engine;
import dev.glance.engine.runtime.EngineOptions;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.server.inference.EngineWorker;
import dev.glance.server.log.RequestLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The real server on a random loopback port with the fixture checkpoint and a real state database
 * ({@link TestState}, closed with the server), its request log kept in memory for the tests to read.
 */
public final class TestServer implements AutoCloseable {
  public final ServerConfig config;
  public final GlanceServer server;
  public final TestState state;
  /** What the server serves: its name, limits and service. */
  public final ServedModel served;
  private final CpuBackend backend;
  private final Engine engine;
  private final EngineWorker worker;
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestServer(ServerConfig config, Path model, int maxBatch, TestState state) {
    this(config, model, maxBatch, state, ThroughputSettings.defaults());
  }

  private TestServer(ServerConfig config, Path model, int maxBatch, TestState state, ThroughputSettings throughput) {
    this(config, model, maxBatch, state, throughput, 0);
  }

  private TestServer(ServerConfig config, Path model, int maxBatch, TestState state, ThroughputSettings throughput,
      long maxQueuedTokens) {
    this.config = config;
    this.state = state;
    this.backend = new CpuBackend();
    this.engine = Engine.load(model, backend, new EngineOptions(config.maxImagePixels(), config.maxImageBytes(), 0));
    this.server = GlanceServer.start(config, RequestLog.to(log), state.services, throughput);
    BatchOptions batch = new BatchOptions(maxBatch, 64, 1 << 16, 16);
    this.worker = new EngineWorker(new BatchScheduler(engine, batch), config.queueSize(), maxQueuedTokens);
    this.served = ServedModel.of(engine, worker, config);
    server.serve(served);
  }

  /** A batched server whose queue also holds at most {@code maxQueuedTokens} waiting prompt tokens. */
  public static TestServer startWithQueuedTokenBound(int maxBatch, int queueSize, long maxQueuedTokens) {
    return new TestServer(LifecycleTest.with(queueSize, Duration.ofSeconds(60), Duration.ofSeconds(30))
        .apply(testConfig()), Fixture.DIR, maxBatch, TestState.sqlite(), ThroughputSettings.defaults(), maxQueuedTokens);
  }

  /** The engine loop behind the server, to watch its queue. */
  public EngineWorker worker() {
    return worker;
  }

  /**
   * A server whose engine loop decodes up to {@code maxBatch} requests together (the others run
   * one at a time, so their queue-size arithmetic is that of one running request).
   */
  public static TestServer startBatched(int maxBatch, UnaryOperator<ServerConfig> change) {
    return new TestServer(change.apply(testConfig()), Fixture.DIR, maxBatch, TestState.sqlite());
  }

  /** A batched server with the given response cache and queue timeout. */
  public static TestServer startBatched(int maxBatch, ThroughputSettings throughput) {
    return new TestServer(testConfig(), Fixture.DIR, maxBatch, TestState.sqlite(), throughput);
  }

  /** The defaults on a random port, with the request log in memory. */
  public static ServerConfig testConfig() {
    ServerConfig d = ServerConfig.defaults();
    return new ServerConfig("127.0.0.1", 0, "", d.maxBodyBytes(), d.maxImageBytes(), d.maxImagePixels(),
        d.maxImages(), d.maxTokensLimit(), d.maxPixels(), d.queueSize(), Duration.ofSeconds(60),
        Duration.ofSeconds(30), true, Duration.ofSeconds(5), List.of(), "");
  }

  public static TestServer start() {
    return start(c -> c);
  }

  public static TestServer start(UnaryOperator<ServerConfig> change) {
    return new TestServer(change.apply(testConfig()), Fixture.DIR, 1, TestState.sqlite());
  }

  public static TestServer start(Path model, UnaryOperator<ServerConfig> change) {
    return new TestServer(change.apply(testConfig()), model, 1, TestState.sqlite());
  }

  /** The fixture served with {@code state}, which the server closes when it closes. */
  public static TestServer start(TestState state) {
    return new TestServer(testConfig(), Fixture.DIR, 1, state);
  }

  /** A POST of JSON with extra headers (name, value, name, value...). */
  public Reply post(String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(60));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** A GET with extra headers (name, value, name, value...). */
  public Reply get(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).GET().timeout(Duration.ofSeconds(30));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  public String baseUrl() {
    return url("/v1");
  }

  public String modelName() {
    return Fixture.DIR.getFileName().toString();
  }

  /** The request log so far, one parsed JSON object per line. */
  public List<JsonNode> logLines() {
    List<JsonNode> out = new ArrayList<>();
    for (String line : log.toString(StandardCharsets.UTF_8).split("\n")) {
      if (!line.isBlank()) {
        try {
          out.add(Fixture.JSON.readTree(line));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return out;
  }

  /** The log line of the request with {@code id}, waiting briefly since it is written after the response. */
  public JsonNode logOf(String id) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      for (JsonNode n : logLines()) {
        if (id.equals(n.path("id").asText())) {
          return n;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no request log line for " + id + " in " + logLines());
  }

  /** The last log line for a route, waiting until there are at least {@code count} lines for it. */
  public JsonNode lastLogFor(String route, int count) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      List<JsonNode> hits = logLines().stream().filter(n -> route.equals(n.path("route").asText())).toList();
      if (hits.size() >= count) {
        return hits.getLast();
      }
      Thread.sleep(10);
    }
    throw new AssertionError("fewer than " + count + " log lines for " + route + ": " + logLines());
  }

  /** Waits until {@code n} requests are running on the engine (from /metrics). */
  public void awaitRunning(int n) throws InterruptedException {
    for (int i = 0; i < 1000; i++) {
      if (get("/metrics").body().contains("glance_requests_running " + n + ".0")) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("never saw " + n + " running requests");
  }

  public record Reply(int status, String body, HttpResponse<String> response) {
    public JsonNode json() {
      try {
        return Fixture.JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  public Reply send(HttpRequest request) {
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.shutdown();
    engine.close();
    backend.close();
    http.close();
    state.close();
  }
}
