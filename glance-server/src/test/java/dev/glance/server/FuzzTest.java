package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Thousands of random mutations of valid requests to both APIs (fields dropped, values of the
 * wrong type or range, strings cut or garbled, bytes of the JSON text flipped) against the real
 * server: none may get a 5xx or hang, no thread may leak, the heap may not grow, and the server
 * must answer a valid request afterwards. Bounded in count and time; the seed is printed so a
 * failure can be replayed with -Dglance.fuzz.seed.
 */
class FuzzTest {
  static final int REQUESTS = 3000;
  static final Duration BUDGET = Duration.ofSeconds(90);
  static final JsonNodeFactory F = JsonNodeFactory.instance;

  static ObjectNode validInfer() {
    ObjectNode r = F.objectNode();
    r.put("image", Fixture.base64("case0_0.png"));
    r.put("text", "What is in this picture?");
    r.put("max_tokens", 4);
    r.put("temperature", 0.7);
    r.put("top_p", 0.9);
    r.put("seed", 3);
    r.putArray("stop").add("zz");
    r.put("thinking", false);
    return r;
  }

  static ObjectNode validChat(String model) {
    ObjectNode r = F.objectNode();
    r.put("model", model);
    r.put("max_tokens", 4);
    r.put("temperature", 0);
    r.put("stream", false);
    r.putObject("stream_options").put("include_usage", true);
    r.putObject("chat_template_kwargs").put("enable_thinking", false);
    ArrayNode messages = r.putArray("messages");
    messages.addObject().put("role", "system").put("content", "Be brief.");
    ArrayNode content = messages.addObject().put("role", "user").putArray("content");
    content.addObject().put("type", "image_url").putObject("image_url").put("url", Fixture.dataUrl("case6_0.png"));
    content.addObject().put("type", "text").put("text", "What colour is it?");
    messages.addObject().put("role", "assistant").put("content", "Blue.");
    messages.addObject().put("role", "user").put("content", "Sure?");
    return r;
  }

  /** Every container node in the tree, with the root. */
  static void containers(JsonNode n, List<JsonNode> out) {
    if (n.isContainerNode()) {
      out.add(n);
      n.forEach(c -> containers(c, out));
    }
  }

  static JsonNode randomValue(Random rnd) {
    return switch (rnd.nextInt(12)) {
      case 0 -> F.nullNode();
      case 1 -> F.booleanNode(rnd.nextBoolean());
      case 2 -> F.numberNode(rnd.nextInt(2001) - 1000);
      case 3 -> F.numberNode(rnd.nextLong());
      case 4 -> F.numberNode(rnd.nextDouble() * 4 - 1);
      case 5 -> F.numberNode(new java.math.BigInteger(100, rnd));
      case 6 -> F.textNode("");
      case 7 -> F.textNode("x".repeat(rnd.nextInt(300)));
      case 8 -> F.textNode("data:image/png;base64," + Fixture.base64("case0_0.png").substring(0, rnd.nextInt(400)));
      case 9 -> F.arrayNode().add(rnd.nextInt(5)).add("a");
      case 10 -> F.objectNode().put("url", "http://127.0.0.1:1/x.png");
      default -> F.textNode(new String(new char[] {(char) rnd.nextInt(0xD800)}));
    };
  }

  /** One to three random edits of the tree, or of its text. */
  static byte[] mutate(ObjectNode valid, Random rnd) {
    ObjectNode r = valid.deepCopy();
    int edits = 1 + rnd.nextInt(3);
    for (int e = 0; e < edits; e++) {
      List<JsonNode> nodes = new ArrayList<>();
      containers(r, nodes);
      JsonNode target = nodes.get(rnd.nextInt(nodes.size()));
      if (target instanceof ObjectNode o && o.size() > 0) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        String key = names.get(rnd.nextInt(names.size()));
        switch (rnd.nextInt(5)) {
          case 0 -> o.remove(key);
          case 1, 2 -> o.set(key, randomValue(rnd));
          case 3 -> {
            JsonNode v = o.get(key);
            if (v.isTextual() && !v.textValue().isEmpty()) {
              String s = v.textValue();
              int cut = rnd.nextInt(s.length());
              o.put(key, rnd.nextBoolean() ? s.substring(0, cut) : s.substring(0, cut) + "%!" + s.substring(cut));
            } else {
              o.set(key, randomValue(rnd));
            }
          }
          default -> o.set("extra_" + rnd.nextInt(10), randomValue(rnd));
        }
      } else if (target instanceof ArrayNode a) {
        switch (rnd.nextInt(3)) {
          case 0 -> {
            if (!a.isEmpty()) {
              a.remove(rnd.nextInt(a.size()));
            }
          }
          case 1 -> {
            if (!a.isEmpty()) {
              a.add(a.get(rnd.nextInt(a.size())).deepCopy());
            }
          }
          default -> a.add(randomValue(rnd));
        }
      }
    }
    byte[] text = r.toString().getBytes(StandardCharsets.UTF_8);
    if (rnd.nextInt(5) == 0) {
      // Byte-level damage: the JSON itself may break.
      for (int i = 0; i < 1 + rnd.nextInt(4); i++) {
        text[rnd.nextInt(text.length)] = (byte) rnd.nextInt(256);
      }
    }
    return text;
  }

  /** Platform threads, less the test's own HTTP clients' pools (JDK "HttpClient-N-..." threads). */
  static List<String> serverThreads() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .filter(n -> !n.matches("HttpClient-\\d+-.*")).sorted().toList();
  }

  static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  @Test
  void randomMutationsNeverGet5xxHangOrLeak() throws Exception {
    long seed = Long.getLong("glance.fuzz.seed", System.nanoTime());
    System.out.println("FuzzTest seed " + seed + " (replay with -Dglance.fuzz.seed=" + seed + ")");
    Random rnd = new Random(seed);
    try (TestServer server = TestServer.start(c -> new ServerConfig(c.host(), c.port(), c.servedModelName(),
        2L << 20, 1L << 20, c.maxImagePixels(), 3, 8, c.maxPixels(), 64, Duration.ofSeconds(30),
        c.shutdownGrace(), true, Duration.ofSeconds(2), List.of(), ""));
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
      ObjectNode infer = validInfer();
      ObjectNode chat = validChat(server.modelName());
      List<byte[]> bodies = new ArrayList<>();
      List<String> paths = new ArrayList<>();
      for (int i = 0; i < REQUESTS; i++) {
        boolean toChat = rnd.nextBoolean();
        bodies.add(mutate(toChat ? chat : infer, rnd));
        paths.add(toChat ? "/v1/chat/completions" : "/infer");
      }
      // Warm up (lazily started pools, JIT) before taking the baselines.
      for (int i = 0; i < 50; i++) {
        send(client, server, paths.get(i), bodies.get(i));
      }
      List<String> threadsBefore = serverThreads();
      long heapBefore = usedHeapAfterGc();
      Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
      List<String> failures = Collections.synchronizedList(new ArrayList<>());
      AtomicInteger sent = new AtomicInteger();
      long deadline = System.nanoTime() + BUDGET.toNanos();
      try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          int first = 50 + w;
          workers.add(pool.submit(() -> {
            for (int i = first; i < REQUESTS && System.nanoTime() < deadline; i += 4) {
              try {
                int status = send(client, server, paths.get(i), bodies.get(i));
                statuses.computeIfAbsent(status, k -> new AtomicInteger()).incrementAndGet();
                if (status >= 500) {
                  failures.add(status + " for " + paths.get(i) + ": " + new String(bodies.get(i), StandardCharsets.UTF_8)
                      .substring(0, Math.min(600, bodies.get(i).length)));
                }
              } catch (Exception e) {
                failures.add(e + " for " + paths.get(i));
              }
              sent.incrementAndGet();
            }
          }));
        }
        for (Future<?> f : workers) {
          f.get();
        }
      }
      System.out.println("FuzzTest sent " + sent.get() + " mutated requests; statuses " + statuses);
      assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.getFirst());
      assertTrue(sent.get() >= 1000, "only " + sent.get() + " requests within " + BUDGET);
      assertTrue(statuses.containsKey(200) && statuses.containsKey(400), "both valid and invalid cases: " + statuses);
      assertEquals(200, server.get("/health").status());
      TestServer.Reply ok = server.post("/infer", validInfer().toString());
      assertEquals(200, ok.status(), ok.body());
      List<String> threadsAfter = serverThreads();
      long heapAfter = usedHeapAfterGc();
      // Two lazily started singletons (a scheduler, say) are no leak; a pool growing per request is.
      assertTrue(threadsAfter.size() <= threadsBefore.size() + 2, "threads " + threadsBefore + " -> " + threadsAfter);
      assertTrue(heapAfter - heapBefore < 64L << 20, "heap " + (heapBefore >> 20) + " MiB -> " + (heapAfter >> 20) + " MiB");
    }
  }

  static int send(HttpClient client, TestServer server, String path, byte[] body) throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(server.url(path)))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 400 && r.statusCode() < 500) {
      JsonNode error = Fixture.JSON.readTree(r.body()).path("error");
      if (!error.path("message").isTextual() || error.path("message").asText().isBlank()) {
        throw new AssertionError("4xx without an error message: " + r.body());
      }
    }
    return r.statusCode();
  }
}
