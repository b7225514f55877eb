package dev.glance.server.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.glance.server.Fixture;
import dev.glance.server.ServerConfig;
import dev.glance.server.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * http(s) image URLs against a local image host on 127.0.0.1: refused by default (loopback),
 * fetched once allow-listed, every redirect target re-checked, and the size cap and timeout
 * applied. All traffic stays on 127.0.0.1; a refused address is never connected to.
 */
class ImageUrlFetchTest {
  static HttpServer images;
  static final AtomicInteger hits = new AtomicInteger();
  static final byte[] PNG = Fixture.bytes("case0_0.png");

  @BeforeAll
  static void startImageHost() throws IOException {
    images = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    images.createContext("/cat.png", ex -> {
      hits.incrementAndGet();
      ex.getResponseHeaders().add("Content-Type", "image/png");
      ex.sendResponseHeaders(200, PNG.length);
      ex.getResponseBody().write(PNG);
      ex.close();
    });
    images.createContext("/redirect", ex -> {
      hits.incrementAndGet();
      ex.getResponseHeaders().add("Location", "/cat.png");
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    images.createContext("/to-metadata", ex -> {
      hits.incrementAndGet();
      ex.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data/");
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    images.createContext("/loop", ex -> {
      hits.incrementAndGet();
      ex.getResponseHeaders().add("Location", "/loop");
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    images.createContext("/big.png", ex -> {
      hits.incrementAndGet();
      ex.sendResponseHeaders(200, 300_000);
      ex.getResponseBody().write(new byte[300_000]);
      ex.close();
    });
    images.createContext("/missing.png", ex -> {
      hits.incrementAndGet();
      ex.sendResponseHeaders(404, -1);
      ex.close();
    });
    images.createContext("/slow.png", ex -> {
      hits.incrementAndGet();
      try {
        Thread.sleep(3000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.sendResponseHeaders(200, PNG.length);
      ex.getResponseBody().write(PNG);
      ex.close();
    });
    images.start();
  }

  @AfterAll
  static void stopImageHost() {
    images.stop(0);
  }

  static String url(String path) {
    return "http://127.0.0.1:" + images.getAddress().getPort() + path;
  }

  static UnaryOperator<ServerConfig> allowing(List<String> allow, long maxImageBytes, long fetchSeconds) {
    return c -> new ServerConfig(c.host(), c.port(), c.servedModelName(), c.maxBodyBytes(), maxImageBytes,
        c.maxImagePixels(), c.maxImages(), c.maxTokensLimit(), c.maxPixels(), c.queueSize(), c.requestTimeout(),
        c.shutdownGrace(), true, java.time.Duration.ofSeconds(fetchSeconds), allow, "");
  }

  static String chat(TestServer server, String imageUrl) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("model", server.modelName());
    r.put("max_tokens", 12);
    r.put("temperature", 0);
    var content = r.putArray("messages").addObject().put("role", "user").putArray("content");
    content.addObject().put("type", "image_url").putObject("image_url").put("url", imageUrl);
    content.addObject().put("type", "text").put("text", "What is in this picture?");
    return r.toString();
  }

  @Test
  void loopbackIsRefusedByDefaultWithoutConnecting() {
    try (TestServer server = TestServer.start(c -> c)) {
      int before = hits.get();
      TestServer.Reply r = server.post("/v1/chat/completions", chat(server, url("/cat.png")));
      assertEquals(400, r.status(), r.body());
      String message = r.json().path("error").path("message").asText();
      assertTrue(message.contains("loopback") && message.contains("--fetch-allow"), message);
      assertEquals("invalid_image_url", r.json().path("error").path("code").asText());
      assertEquals(before, hits.get(), "the image host was never contacted");
    }
  }

  @Test
  void allowListedHostIsFetchedAndAnsweredLikeADataUrl() {
    try (TestServer server = TestServer.start(allowing(List.of("127.0.0.1/32"), 20 << 20, 5))) {
      TestServer.Reply r = server.post("/v1/chat/completions", chat(server, url("/cat.png")));
      assertEquals(200, r.status(), r.body());
      String content = r.json().path("choices").get(0).path("message").path("content").asText();
      assertEquals(Fixture.caseNamed("case0").path("greedy_text").asText(), content);
      TestServer.Reply redirected = server.post("/v1/chat/completions", chat(server, url("/redirect")));
      assertEquals(200, redirected.status(), redirected.body());
      assertEquals(content, redirected.json().path("choices").get(0).path("message").path("content").asText());
    }
  }

  @Test
  void everyRedirectTargetIsChecked() {
    try (TestServer server = TestServer.start(allowing(List.of("127.0.0.1"), 20 << 20, 5))) {
      TestServer.Reply r = server.post("/v1/chat/completions", chat(server, url("/to-metadata")));
      assertEquals(400, r.status(), r.body());
      String message = r.json().path("error").path("message").asText();
      assertTrue(message.contains("169.254.169.254") && message.contains("link-local"), message);
      TestServer.Reply loop = server.post("/v1/chat/completions", chat(server, url("/loop")));
      assertEquals(400, loop.status(), loop.body());
      assertTrue(loop.json().path("error").path("message").asText().contains("redirects"), loop.body());
    }
  }

  @Test
  void sizeCapStatusAndTimeout() {
    try (TestServer server = TestServer.start(allowing(List.of("127.0.0.1"), 100_000, 1))) {
      TestServer.Reply big = server.post("/v1/chat/completions", chat(server, url("/big.png")));
      assertEquals(400, big.status(), big.body());
      assertEquals("image_too_large", big.json().path("error").path("code").asText(), big.body());
      TestServer.Reply missing = server.post("/v1/chat/completions", chat(server, url("/missing.png")));
      assertEquals(400, missing.status());
      assertTrue(missing.json().path("error").path("message").asText().contains("HTTP 404"), missing.body());
      long t0 = System.nanoTime();
      TestServer.Reply slow = server.post("/v1/chat/completions", chat(server, url("/slow.png")));
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertEquals(400, slow.status(), slow.body());
      assertTrue(slow.json().path("error").path("message").asText().contains("took longer than 1 s"), slow.body());
      assertTrue(seconds < 2.9, "gave up after the fetch timeout, not the slow host's 3 s: " + seconds);
    }
  }
}
