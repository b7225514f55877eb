package dev.glance.cli.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.io.Json;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;

/**
 * A closed-loop load generator for /v1/chat/completions: each client sends a streaming request,
 * reads it to the end, and sends the next, until the plan's time or request count runs out. Time
 * to first token is the arrival of the first content (or reasoning) delta.
 */
public final class LoadGenerator {
  private static final String[] QUESTIONS = {"What is in this picture?", "Describe the image in detail.",
      "What colours do you see?", "Is there any text in the image?"};

  private final LoadPlan plan;
  private final HttpClient http;
  private final List<String> repeatedImages = new ArrayList<>();
  /** Pool images sent at least once: only a later send of one is a repeat the server can know. */
  private final Set<Integer> sentImages = ConcurrentHashMap.newKeySet();

  public LoadGenerator(LoadPlan plan) {
    this.plan = plan;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    SplittableRandom rnd = new SplittableRandom(plan.seed());
    for (int i = 0; i < plan.distinctImages(); i++) {
      repeatedImages.add(randomPng(rnd, plan.imageSize()));
    }
  }

  public LoadReport run() throws InterruptedException {
    List<RequestOutcome> outcomes = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger budget = new AtomicInteger(plan.maxRequests());
    long start = System.nanoTime();
    long deadline = start + plan.duration().toNanos();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < plan.clients(); c++) {
      SplittableRandom rnd = new SplittableRandom(plan.seed() * 1000 + c);
      clients.add(Thread.ofVirtual().start(() -> {
        while (System.nanoTime() < deadline && budget.getAndDecrement() > 0) {
          outcomes.add(once(rnd, deadline));
        }
      }));
    }
    for (Thread t : clients) {
      t.join();
    }
    return new LoadReport(plan, (System.nanoTime() - start) / 1e9, List.copyOf(outcomes));
  }

  private RequestOutcome once(SplittableRandom rnd, long deadline) {
    boolean fromPool = rnd.nextDouble() < plan.repeatFraction();
    boolean repeated = false;
    String image;
    String question;
    if (fromPool) {
      int k = rnd.nextInt(repeatedImages.size());
      repeated = !sentImages.add(k);
      image = repeatedImages.get(k);
    } else {
      image = randomPng(rnd, plan.imageSize());
    }
    // Questions vary for repeated images too: the same question again can come from the response
    // cache, a new one about a known image from the vision and prefix caches.
    question = QUESTIONS[rnd.nextInt(QUESTIONS.length)];
    HttpRequest.Builder req = HttpRequest.newBuilder(plan.server().resolve("/v1/chat/completions"))
        .timeout(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()) + Duration.ofMinutes(2).toNanos()))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body(image, question)));
    if (plan.apiKey() != null) {
      req.header("Authorization", "Bearer " + plan.apiKey());
    }
    long t0 = System.nanoTime();
    try {
      HttpResponse<java.io.InputStream> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
      if (resp.statusCode() != 200) {
        resp.body().close();
        return RequestOutcome.failed(resp.statusCode(), ms(t0), repeated);
      }
      double ttft = 0;
      int tokens = 0;
      boolean hit = false;
      int cachedTokens = 0;
      boolean responseHit = false;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (!line.startsWith("data:")) {
            continue;
          }
          String data = line.substring(5).strip();
          if (data.equals("[DONE]")) {
            break;
          }
          JsonNode chunk = Json.mapper().readTree(data);
          JsonNode delta = chunk.path("choices").path(0).path("delta");
          if (ttft == 0 && (!delta.path("content").asText("").isEmpty()
              || !delta.path("reasoning_content").asText("").isEmpty())) {
            ttft = ms(t0);
          }
          if (chunk.path("usage").has("completion_tokens")) {
            tokens = chunk.path("usage").path("completion_tokens").asInt();
            cachedTokens = chunk.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt(0);
          }
          JsonNode cache = chunk.path("timings").path("cache");
          if (cache.path("vision_hits").asInt(0) > 0) {
            hit = true;
          }
          if (cache.path("response").asBoolean(false)) {
            responseHit = true;
          }
        }
      }
      return new RequestOutcome(200, ms(t0), ttft == 0 ? ms(t0) : ttft, tokens, repeated, hit, cachedTokens, responseHit);
    } catch (IOException e) {
      return RequestOutcome.failed(0, ms(t0), repeated);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return RequestOutcome.failed(0, ms(t0), repeated);
    }
  }

  private String body(String pngBase64, String question) {
    ObjectNode o = Json.mapper().createObjectNode();
    o.put("model", plan.model());
    o.put("max_tokens", plan.maxTokens());
    o.put("temperature", 0);
    o.put("stream", true);
    o.putObject("stream_options").put("include_usage", true);
    ObjectNode msg = o.putArray("messages").addObject();
    msg.put("role", "user");
    var content = msg.putArray("content");
    content.addObject().put("type", "image_url").putObject("image_url").put("url", "data:image/png;base64," + pngBase64);
    content.addObject().put("type", "text").put("text", question);
    return o.toString();
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  /** A noise image, so every "new" image is really new to the server's caches. */
  static String randomPng(SplittableRandom rnd, int size) {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        img.setRGB(x, y, rnd.nextInt(1 << 24));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Base64.getEncoder().encodeToString(out.toByteArray());
  }
}
