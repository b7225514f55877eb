package dev.glance.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.server.Fixture;
import dev.glance.server.ServerConfig;
import dev.glance.server.TestServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad input is answered 4xx with an OpenAI-style error body that says what was
 * wrong, and the server stays healthy: after each test a valid request still gets its answer.
 */
class BadInputTest {
  static final long BODY_CAP = 1 << 20;
  static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(c -> new ServerConfig(c.host(), c.port(), c.servedModelName(), BODY_CAP,
        c.maxImageBytes(), c.maxImagePixels(), 3, 64, c.maxPixels(), c.queueSize(), c.requestTimeout(),
        c.shutdownGrace(), true, c.fetchTimeout(), List.of(), ""));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void stillHealthy() {
    assertEquals(200, server.get("/health").status());
    TestServer.Reply ok = server.post("/infer", infer(Fixture.base64("case0_0.png")).toString());
    assertEquals(200, ok.status(), ok.body());
    assertEquals(Fixture.caseNamed("case0").path("greedy_text").asText().substring(0, 2),
        ok.json().path("output").asText().substring(0, 2));
  }

  static ObjectNode infer(String image) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("image", image);
    r.put("text", "What is in this picture?");
    r.put("max_tokens", 2);
    r.put("temperature", 0);
    return r;
  }

  static ObjectNode chat(Object... imageUrls) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("model", server.modelName());
    r.put("max_tokens", 2);
    var content = r.putArray("messages").addObject().put("role", "user").putArray("content");
    for (Object url : imageUrls) {
      content.addObject().put("type", "image_url").putObject("image_url").put("url", url.toString());
    }
    content.addObject().put("type", "text").put("text", "What is this?");
    return r;
  }

  /** Asserts an OpenAI error body with this status whose message contains every fragment. */
  static JsonNode assertError(TestServer.Reply r, int status, String... fragments) {
    assertEquals(status, r.status(), r.body());
    assertTrue(r.response().headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonNode error = r.json().path("error");
    assertTrue(error.isObject(), "no error object: " + r.body());
    String message = error.path("message").asText();
    assertFalse(message.isBlank());
    assertFalse(message.contains("Exception") || message.contains("\tat "), "internals leak: " + message);
    assertTrue(error.path("type").isTextual() && error.path("code").isTextual(), r.body());
    assertTrue(error.has("param"), r.body());
    for (String f : fragments) {
      assertTrue(message.contains(f), "'" + f + "' not in: " + message);
    }
    return error;
  }

  @Test
  void malformedJson() {
    assertError(server.post("/infer", "{\"image\": \"abc\", \"text\": "), 400, "not valid JSON");
    assertError(server.post("/v1/chat/completions", "not json at all"), 400, "not valid JSON");
    assertError(server.post("/infer", "{} trailing"), 400, "not valid JSON");
    assertError(server.post("/infer", ""), 400, "empty");
    assertError(server.post("/infer", "[1, 2]"), 400, "must be a JSON object");
    assertError(server.post("/infer", "[".repeat(5000)), 400, "not valid JSON");
  }

  @Test
  void wrongTypes() {
    ObjectNode r = infer(Fixture.base64("case0_0.png"));
    r.put("max_tokens", "12");
    assertEquals("max_tokens", assertError(server.post("/infer", r.toString()), 400, "max_tokens must be an integer",
        "a string").path("param").asText());
    r = infer(Fixture.base64("case0_0.png"));
    r.put("temperature", "hot");
    assertError(server.post("/infer", r.toString()), 400, "temperature must be a number");
    r = infer(Fixture.base64("case0_0.png"));
    r.put("text", 42);
    assertError(server.post("/infer", r.toString()), 400, "text must be a string");
    r = infer(Fixture.base64("case0_0.png"));
    r.putArray("image").add(1);
    assertError(server.post("/infer", r.toString()), 400, "image must be a string");
    ObjectNode c = chat();
    c.put("messages", "hello");
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "messages must be an array");
    c = chat();
    ((ObjectNode) c.path("messages").get(0)).put("content", 5);
    assertEquals("messages[0].content", assertError(server.post("/v1/chat/completions", c.toString()), 400,
        "messages[0].content must be a string or an array").path("param").asText());
    c = chat();
    c.put("stream", "yes");
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "stream must be true or false");
    c = chat();
    c.put("top_p", 1.5);
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "top_p");
  }

  @Test
  void missingImageOrText() {
    ObjectNode r = infer(Fixture.base64("case0_0.png"));
    r.remove("image");
    assertError(server.post("/infer", r.toString()), 400, "image is required");
    r = infer(Fixture.base64("case0_0.png"));
    r.remove("text");
    assertError(server.post("/infer", r.toString()), 400, "text is required");
    r = infer(Fixture.base64("case0_0.png"));
    r.put("text", "  ");
    assertError(server.post("/infer", r.toString()), 400, "text must not be empty");
    ObjectNode c = chat();
    c.remove("messages");
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "messages is required");
  }

  @Test
  void badBase64() {
    assertError(server.post("/infer", infer("this is *not* base64!").toString()), 400, "image is not valid base64");
    assertError(server.post("/v1/chat/completions", chat("data:image/png;base64,@@@@").toString()), 400,
        "messages[0].content[0].image_url is not valid base64");
    assertError(server.post("/v1/chat/completions", chat("data:image/png,rawbytes").toString()), 400,
        "only base64 data URLs");
  }

  @Test
  void bytesThatAreNotAnImage() {
    String text = Base64.getEncoder().encodeToString("just some text, not a picture".getBytes());
    assertError(server.post("/infer", infer(text).toString()), 400, "image");
    assertError(server.post("/infer", infer("").toString()), 400, "image is empty");
  }

  @Test
  void truncatedPngAndJpeg() throws Exception {
    byte[] png = Fixture.bytes("case3_0.png");
    byte[] cut = Arrays.copyOf(png, png.length / 2);
    assertError(server.post("/infer", infer(Base64.getEncoder().encodeToString(cut)).toString()), 400, "image");
    BufferedImage img = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 150; y++) {
      for (int x = 0; x < 200; x++) {
        img.setRGB(x, y, (x * 7 + y * 13) * 0x010203);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpeg", out);
    byte[] jpeg = out.toByteArray();
    assertEquals(200, server.post("/infer", infer(Base64.getEncoder().encodeToString(jpeg)).toString()).status(),
        "the whole JPEG is fine");
    byte[] cutJpeg = Arrays.copyOf(jpeg, jpeg.length / 3);
    assertError(server.post("/infer", infer(Base64.getEncoder().encodeToString(cutJpeg)).toString()), 400, "image");
  }

  /** A PNG signature and IHDR claiming 100000 x 100000 pixels, and no image data at all. */
  static byte[] hugePngHeader() {
    ByteBuffer buf = ByteBuffer.allocate(33);
    buf.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    buf.putInt(13).put("IHDR".getBytes()).putInt(100000).putInt(100000);
    buf.put(new byte[] {8, 2, 0, 0, 0});
    CRC32 crc = new CRC32();
    crc.update(buf.array(), 12, 17);
    buf.putInt((int) crc.getValue());
    return buf.array();
  }

  @Test
  void aHeaderClaimingTenGigapixelsIsRefusedFromTheHeader() {
    String b64 = Base64.getEncoder().encodeToString(hugePngHeader());
    assertError(server.post("/infer", infer(b64).toString()), 400, "100000x100000");
    assertError(server.post("/v1/chat/completions", chat("data:image/png;base64," + b64).toString()), 400,
        "100000x100000");
  }

  @Test
  void aBodyOverTheCapIsRefused() throws Exception {
    String big = infer("A".repeat((int) BODY_CAP)).toString();
    // Expect: 100-continue, as curl sends for large bodies: the client waits for the server's
    // verdict on the headers, so a refusal from Content-Length cannot race the upload (a server
    // that closes a socket with unread input resets it, and the client may lose the 413).
    HttpRequest declared = HttpRequest.newBuilder(URI.create(server.url("/infer")))
        .header("Content-Type", "application/json").expectContinue(true)
        .POST(HttpRequest.BodyPublishers.ofString(big)).timeout(java.time.Duration.ofSeconds(60)).build();
    assertError(server.send(declared), 413, "limit of " + BODY_CAP);
    // Without a Content-Length (chunked), the body is read only up to the cap.
    byte[] bytes = big.getBytes();
    HttpRequest chunked = HttpRequest.newBuilder(URI.create(server.url("/infer")))
        .POST(HttpRequest.BodyPublishers.fromPublisher(new Flow.Publisher<>() {
          @Override
          public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
            HttpRequest.BodyPublishers.ofByteArray(bytes).subscribe(s);
          }
        })).timeout(Duration.ofSeconds(30)).build();
    assertError(server.send(chunked), 413, "limit of " + BODY_CAP);
  }

  @Test
  void anImageLargerThanTheImageCapIsRefusedBeforeDecoding() {
    // Bigger than max_image_bytes but the body fits: only checked by length, never decoded.
    TestServer.Reply r = server.post("/infer", infer("A".repeat((int) (BODY_CAP - 10_000))).toString());
    assertEquals(400, r.status(), r.body());
  }

  @Test
  void tooManyImages() {
    String b64 = Fixture.base64("case0_0.png");
    ObjectNode r = infer(b64);
    r.remove("image");
    r.putArray("images").add(b64).add(b64).add(b64).add(b64);
    assertError(server.post("/infer", r.toString()), 400, "too many images: 4", "at most 3");
    String url = Fixture.dataUrl("case0_0.png");
    assertError(server.post("/v1/chat/completions", chat(url, url, url, url).toString()), 400, "too many images");
  }

  @Test
  void maxTokensZeroNegativeAndHuge() {
    for (long n : new long[] {0, -5, 65, 1L << 40}) {
      ObjectNode r = infer(Fixture.base64("case0_0.png"));
      r.put("max_tokens", n);
      assertError(server.post("/infer", r.toString()), 400, "max_tokens must be between 1 and 64", "got " + n);
      ObjectNode c = chat();
      c.put("max_completion_tokens", n);
      assertError(server.post("/v1/chat/completions", c.toString()), 400, "max_completion_tokens must be between");
    }
  }

  @Test
  void moreThanOneChoice() {
    ObjectNode c = chat();
    c.put("n", 3);
    assertEquals("n", assertError(server.post("/v1/chat/completions", c.toString()), 400, "n must be 1")
        .path("param").asText());
  }

  @Test
  void imageUrlsToLoopbackOrMetadataAddressesAreRefused() {
    assertError(server.post("/v1/chat/completions", chat("http://127.0.0.1:" + server.server.port() + "/")
        .toString()), 400, "loopback");
    assertError(server.post("/v1/chat/completions", chat("http://169.254.169.254/latest/meta-data/")
        .toString()), 400, "link-local");
    assertError(server.post("/v1/chat/completions", chat("http://[::ffff:127.0.0.1]/x.png").toString()), 400,
        "loopback");
    assertError(server.post("/v1/chat/completions", chat("http://10.1.2.3/x.png").toString()), 400, "private");
    assertError(server.post("/v1/chat/completions", chat("file:///etc/passwd").toString()), 400,
        "must be a data: URL or an http(s) URL");
  }

  @Test
  void unknownModel() {
    ObjectNode c = chat();
    c.put("model", "gpt-4o");
    JsonNode e = assertError(server.post("/v1/chat/completions", c.toString()), 404, "gpt-4o", server.modelName());
    assertEquals("model_not_found", e.path("code").asText());
    ObjectNode r = infer(Fixture.base64("case0_0.png"));
    r.put("model", "other");
    assertError(server.post("/infer", r.toString()), 404, "other");
  }

  @Test
  void unsupportedFeaturesAreNamed() {
    ObjectNode c = chat();
    c.putArray("tools").addObject().put("type", "function");
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "tools is not supported");
    c = chat();
    c.put("logprobs", true);
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "logprobs");
    c = chat();
    ((ObjectNode) c.path("messages").get(0)).put("role", "tool");
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "'tool' is not supported");
    c = chat();
    c.putObject("chat_template_kwargs").put("tools", "x");
    assertError(server.post("/v1/chat/completions", c.toString()), 400, "chat_template_kwargs.tools");
  }

  @Test
  void unknownRoutesAndMethods() {
    assertError(server.get("/v2/whatever"), 404, "no route");
    assertError(server.get("/infer"), 405, "GET is not allowed");
  }

  @Test
  void badRequestsAreLogged() throws Exception {
    server.post("/infer", "{");
    JsonNode line = server.lastLogFor("/infer", 1);
    assertTrue(server.logLines().stream().anyMatch(n -> n.path("status").asInt() == 400
        && n.path("error").path("code").asText().equals("invalid_json")), server.logLines().toString());
    assertTrue(line.path("ts").isTextual());
  }
}
