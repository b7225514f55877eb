package dev.glance.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.server.Fixture;
import dev.glance.server.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * curl against the real server, and the clients in examples/ (curl script, Python requests, the
 * OpenAI Java SDK single-file program) run as a user would run them.
 */
class CurlAndExamplesTest {
  static final Path EXAMPLES = Path.of("").toAbsolutePath().getParent().resolve("examples");
  static TestServer server;

  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  record Run(int code, String out, String err) {}

  static Run run(List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("GLANCE_URL", server.url(""));
    pb.environment().put("PYTHONIOENCODING", "utf-8");
    Path out = Files.createTempFile("glance-run", ".out");
    Path err = Files.createTempFile("glance-run", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
    Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** What /infer answers for case0's image and question with these settings. */
  static String inferAnswer(int maxTokens) {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("image", Fixture.base64("case0_0.png"));
    r.put("text", "What is in this picture?");
    r.put("max_tokens", maxTokens);
    r.put("temperature", 0);
    return server.post("/infer", r.toString()).json().path("output").asText();
  }

  @Test
  void curlInfer() throws Exception {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("image", Fixture.base64("case0_0.png"));
    r.put("text", "What is in this picture?");
    r.put("max_tokens", 12);
    r.put("temperature", 0);
    Path body = tmp.resolve("body.json");
    Files.writeString(body, r.toString());
    Run run = run(List.of("curl", "-sS", "-w", "\n%{http_code}", server.url("/infer"), "-H",
        "Content-Type: application/json", "--data-binary", "@" + body));
    assertEquals(0, run.code(), run.err());
    String[] lines = run.out().split("\n");
    assertEquals("200", lines[lines.length - 1]);
    JsonNode out = Fixture.JSON.readTree(run.out().substring(0, run.out().lastIndexOf('\n')));
    assertEquals(Fixture.caseNamed("case0").path("greedy_text").asText(), out.path("output").asText());
  }

  @Test
  void curlStreamsServerSentEvents() throws Exception {
    ObjectNode r = Fixture.JSON.createObjectNode();
    r.put("model", server.modelName());
    r.put("stream", true);
    r.put("max_tokens", 12);
    r.put("temperature", 0);
    var content = r.putArray("messages").addObject().put("role", "user").putArray("content");
    content.addObject().put("type", "image_url").putObject("image_url").put("url", Fixture.dataUrl("case0_0.png"));
    content.addObject().put("type", "text").put("text", "What is in this picture?");
    Path body = tmp.resolve("chat.json");
    Files.writeString(body, r.toString());
    Run run = run(List.of("curl", "-sS", "-N", "-D", tmp.resolve("headers").toString(),
        server.url("/v1/chat/completions"), "--data-binary", "@" + body));
    assertEquals(0, run.code(), run.err());
    assertTrue(Files.readString(tmp.resolve("headers")).toLowerCase().contains("content-type: text/event-stream"));
    List<String> events = new ArrayList<>();
    for (String e : run.out().split("\n\n")) {
      if (!e.isBlank()) {
        events.add(e.strip());
      }
    }
    assertEquals("data: [DONE]", events.getLast());
    StringBuilder text = new StringBuilder();
    for (String e : events.subList(0, events.size() - 1)) {
      assertTrue(e.startsWith("data: {"), e);
      JsonNode chunk = Fixture.JSON.readTree(e.substring(6));
      assertEquals("chat.completion.chunk", chunk.path("object").asText());
      text.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
    }
    assertEquals(Fixture.caseNamed("case0").path("greedy_text").asText(), text.toString());
  }

  @Test
  void curlSeesErrorsAndTheBodyCap() throws Exception {
    Run bad = run(List.of("curl", "-sS", "-w", "\n%{http_code}", server.url("/infer"), "-d", "{\"text\":\"hi\"}"));
    assertTrue(bad.out().endsWith("\n400"), bad.out());
    assertTrue(bad.out().contains("image is required"), bad.out());
    Path big = tmp.resolve("big.json");
    Files.write(big, new byte[(int) server.config.maxBodyBytes() + 1]);
    Run tooBig = run(List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", server.url("/infer"),
        "-H", "Content-Type: application/json", "--data-binary", "@" + big));
    assertEquals("413", tooBig.out().strip(), tooBig.err());
  }

  @Test
  void curlExampleScript() throws Exception {
    Run run = run(List.of("bash", EXAMPLES.resolve("curl.sh").toString(), Fixture.DIR.resolve("case0_0.png").toString()));
    assertEquals(0, run.code(), run.err());
    String first = run.out().lines().findFirst().orElseThrow();
    assertEquals(inferAnswer(64), Fixture.JSON.readTree(first).path("output").asText());
    assertTrue(run.out().strip().endsWith("data: [DONE]"), run.out());
  }

  /** The first Python that has requests: the one on PATH, else Debian's (python3-requests). */
  static String pythonWithRequests() throws IOException, InterruptedException {
    for (String python : List.of("python3", "/usr/bin/python3")) {
      try {
        if (run(List.of(python, "-c", "import requests")).code() == 0) {
          return python;
        }
      } catch (IOException e) {
        // Not installed: try the next one.
      }
    }
    throw new AssertionError("no python3 with requests: apt-get install -y python3-requests");
  }

  @Test
  void pythonRequestsExample() throws Exception {
    Run run = run(List.of(pythonWithRequests(), EXAMPLES.resolve("infer.py").toString(),
        Fixture.DIR.resolve("case0_0.png").toString()));
    assertEquals(0, run.code(), run.err());
    assertEquals(inferAnswer(256), run.out().substring(0, run.out().length() - 1));
    assertTrue(run.err().contains("prompt tokens (9 for the image)"), run.err());
  }

  @Test
  void javaOpenAiSdkExample() throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Run run = run(List.of(java, "-Dstdout.encoding=UTF-8", "-cp", System.getProperty("java.class.path"),
        EXAMPLES.resolve("OpenAiClient.java").toString(), Fixture.DIR.resolve("case0_0.png").toString()));
    assertEquals(0, run.code(), run.err());
    assertEquals(inferAnswer(256), run.out().substring(0, run.out().length() - 1));
    assertTrue(run.err().contains("prompt tokens"), run.err());
  }
}
