package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.io.SafetensorsFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** `glance ask` in-process against the fixture: greedy ids, JSON fields, and every error path. */
class AskCommandTest {
  static final Path FIXTURE = Path.of(System.getProperty("glance.fixtures", "../../shared/fixtures"))
      .resolve("glm4v-tiny-a").toAbsolutePath().normalize();
  static final ObjectMapper JSON = new ObjectMapper();
  static final Arena ARENA = Arena.ofShared();

  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run ask(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @AfterAll
  static void close() {
    ARENA.close();
  }

  static JsonNode expected() throws IOException {
    if (!Files.isDirectory(FIXTURE)) {
      throw new IllegalStateException("fixture not found at " + FIXTURE);
    }
    return JSON.readTree(FIXTURE.resolve("expected.json").toFile());
  }

  /** Single-turn cases (with zero, one or two images): what the CLI can express. */
  static List<String> singleTurnCases() throws IOException {
    List<String> names = new ArrayList<>();
    for (JsonNode c : expected().path("cases")) {
      long users = 0;
      for (JsonNode m : c.path("messages")) {
        users += m.path("role").asText().equals("user") ? 1 : 0;
      }
      if (users == 1) {
        names.add(c.path("name").asText());
      }
    }
    return names;
  }

  static List<String> argsFor(JsonNode c) {
    List<String> args = new ArrayList<>(List.of("ask", "--model", FIXTURE.toString(), "--json",
        "--temperature", "0", "--ignore-eos", "--max-tokens", "12"));
    String question = null;
    int image = 0;
    for (JsonNode m : c.path("messages")) {
      if (m.path("role").asText().equals("system")) {
        args.add("--system");
        args.add(m.path("content").asText());
        continue;
      }
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        question = content.asText();
        continue;
      }
      for (JsonNode part : content) {
        if (part.path("type").asText().equals("image")) {
          args.add("--image");
          args.add(FIXTURE.resolve(c.path("images").get(image++).path("file").asText()).toString());
        } else {
          question = part.path("text").asText();
        }
      }
    }
    if (c.path("template_kwargs").path("enable_thinking").isBoolean()
        && !c.path("template_kwargs").path("enable_thinking").asBoolean()) {
      args.add("--no-thinking");
    }
    args.add(question);
    return args;
  }

  static int[] greedyIds(String name) {
    SafetensorsFile f = SafetensorsFile.open(FIXTURE.resolve("expected.safetensors"), ARENA);
    long[] l = f.get(name + ".greedy_ids").toLongArray();
    int[] r = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      r[i] = (int) l[i];
    }
    return r;
  }

  @ParameterizedTest
  @MethodSource("singleTurnCases")
  void reproducesTheReferenceGreedyContinuation(String name) throws IOException {
    JsonNode c = null;
    for (JsonNode x : expected().path("cases")) {
      if (x.path("name").asText().equals(name)) {
        c = x;
      }
    }
    Run r = ask(argsFor(c));
    assertEquals(0, r.code(), r.err());
    JsonNode out = JSON.readTree(r.out());
    int[] ids = JSON.convertValue(out.path("token_ids"), int[].class);
    assertArrayEquals(greedyIds(name), ids, name + " token_ids");
    assertEquals(c.path("seq_len").asInt(), out.path("prompt_tokens").asInt(), "prompt_tokens");
    assertEquals(c.path("image_tokens").asInt(), out.path("image_tokens").asInt(), "image_tokens");
    assertEquals(12, out.path("completion_tokens").asInt());
    assertEquals("length", out.path("finish_reason").asText());
    for (String k : List.of("preprocess", "vision", "prefill", "decode")) {
      assertTrue(out.path("timings").path(k).isNumber(), "timings." + k);
    }
    assertTrue(out.path("text").isTextual());
  }

  @Test
  void streamsTextWithoutJson() {
    Run r = ask(List.of("ask", "--model", FIXTURE.toString(), "--max-tokens", "5", "--temperature", "0",
        "--ignore-eos", "--image", FIXTURE.resolve("case0_0.png").toString(), "What is in this picture?"));
    assertEquals(0, r.code(), r.err());
    assertFalse(r.out().isBlank() && r.err().isBlank(), "something was generated");
  }

  /** Each bad input: non-zero exit, one line naming the problem, no stack trace. */
  private void assertOneLineError(Run r, String... mustContain) {
    assertNotEquals(0, r.code(), "exit code");
    String err = r.err().strip();
    assertFalse(err.contains("\tat ") || err.contains("Exception"), "stack trace or exception name: " + err);
    for (String s : mustContain) {
      assertTrue(err.contains(s), "stderr should mention '" + s + "': " + err);
    }
  }

  private Path copyFixture(String name) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    try (var files = Files.list(FIXTURE)) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().startsWith("expected")) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    }
    return dir;
  }

  @Test
  void missingModelDirectory() {
    Path dir = tmp.resolve("nope");
    assertOneLineError(ask(List.of("ask", "--model", dir.toString(), "hi")), dir.toString());
  }

  @Test
  void truncatedModelFile() throws IOException {
    Path dir = copyFixture("trunc");
    Path weights = dir.resolve("model.safetensors");
    byte[] all = Files.readAllBytes(weights);
    Files.write(weights, java.util.Arrays.copyOf(all, all.length - 1000));
    assertOneLineError(ask(List.of("ask", "--model", dir.toString(), "hi")), "model.safetensors", "truncated");
  }

  @Test
  void tensorOfTheWrongShape() throws IOException {
    Path dir = copyFixture("shape");
    ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
    ((ObjectNode) cfg.get("vision_config")).put("out_hidden_size", 128).put("hidden_size", 32).put("num_heads", 2);
    Files.writeString(dir.resolve("config.json"), cfg.toString());
    assertOneLineError(ask(List.of("ask", "--model", dir.toString(), "hi")), "model.visual.", "shape");
  }

  @Test
  void unknownArchitecture() throws IOException {
    Path dir = copyFixture("arch");
    ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
    cfg.put("model_type", "qwen2_vl");
    cfg.putArray("architectures").add("Qwen2VLForConditionalGeneration");
    Files.writeString(dir.resolve("config.json"), cfg.toString());
    assertOneLineError(ask(List.of("ask", "--model", dir.toString(), "hi")), "qwen2_vl", "config.json");
  }

  @Test
  void unreadableAndNonImageFiles() throws IOException {
    Path text = tmp.resolve("notes.txt");
    Files.writeString(text, "this is not an image");
    assertOneLineError(ask(List.of("ask", "--model", FIXTURE.toString(), "--image", text.toString(), "hi")),
        "notes.txt");
    Path missing = tmp.resolve("missing.png");
    assertOneLineError(ask(List.of("ask", "--model", FIXTURE.toString(), "--image", missing.toString(), "hi")),
        "missing.png");
  }

  @Test
  void imageOverThePixelLimitIsRefusedFromItsHeader() throws IOException {
    // A PNG signature and IHDR claiming 100000 x 100000 pixels, and no image data at all.
    var buf = java.nio.ByteBuffer.allocate(33);
    buf.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    buf.putInt(13).put("IHDR".getBytes()).putInt(100000).putInt(100000);
    buf.put(new byte[] {8, 2, 0, 0, 0});
    var crc = new java.util.zip.CRC32();
    crc.update(buf.array(), 12, 17);
    buf.putInt((int) crc.getValue());
    Path huge = tmp.resolve("huge.png");
    Files.write(huge, buf.array());
    assertOneLineError(ask(List.of("ask", "--model", FIXTURE.toString(), "--image", huge.toString(), "hi")),
        "huge.png");
  }

  @Test
  void promptLongerThanTheContext() {
    String question = "word ".repeat(5000);
    assertOneLineError(ask(List.of("ask", "--model", FIXTURE.toString(), question)), "context");
  }

  @Test
  void badFlagValues() {
    assertOneLineError(ask(List.of("ask", "--model", FIXTURE.toString(), "--top-p", "1.5", "hi")), "top_p");
    Run r = ask(List.of("ask", "--model", FIXTURE.toString(), "--max-tokens", "many", "hi"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("--max-tokens"), r.err());
  }
}
