package dev.glance.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.io.SafetensorsFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The tiny reference checkpoint and its expected outputs (../shared/fixtures/glm4v-tiny-a). */
public final class Fixture {
  public static final Path DIR = Path.of(System.getProperty("glance.fixtures", "../../shared/fixtures"))
      .resolve("glm4v-tiny-a").toAbsolutePath().normalize();
  public static final ObjectMapper JSON = new ObjectMapper();

  private Fixture() {}

  public static JsonNode expected() {
    if (!Files.isDirectory(DIR)) {
      throw new IllegalStateException("fixture not found at " + DIR + " (set -Dglance.fixtures)");
    }
    try {
      return JSON.readTree(DIR.resolve("expected.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static List<JsonNode> cases() {
    List<JsonNode> out = new ArrayList<>();
    expected().path("cases").forEach(out::add);
    return out;
  }

  public static JsonNode caseNamed(String name) {
    for (JsonNode c : cases()) {
      if (c.path("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no fixture case " + name);
  }

  /** The reference's greedy continuation (12 tokens, ignoring end tokens) for a case. */
  public static int[] greedyIds(String name) {
    try (Arena arena = Arena.ofConfined()) {
      SafetensorsFile f = SafetensorsFile.open(DIR.resolve("expected.safetensors"), arena);
      long[] l = f.get(name + ".greedy_ids").toLongArray();
      int[] r = new int[l.length];
      for (int i = 0; i < l.length; i++) {
        r[i] = (int) l[i];
      }
      return r;
    }
  }

  public static byte[] bytes(String file) {
    try {
      return Files.readAllBytes(DIR.resolve(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String base64(String file) {
    return Base64.getEncoder().encodeToString(bytes(file));
  }

  public static String dataUrl(String file) {
    return "data:image/png;base64," + base64(file);
  }

  /** A fixture case as a chat completions request: greedy, {@code maxTokens} tokens, end tokens ignored. */
  public static ObjectNode chatRequest(JsonNode c, String model, int maxTokens, boolean stream) {
    ObjectNode r = JSON.createObjectNode();
    r.put("model", model);
    r.put("max_tokens", maxTokens);
    r.put("temperature", 0);
    r.put("ignore_eos", true);
    r.put("stream", stream);
    if (stream) {
      r.putObject("stream_options").put("include_usage", true);
    }
    if (c.path("template_kwargs").has("enable_thinking")) {
      r.putObject("chat_template_kwargs").set("enable_thinking", c.path("template_kwargs").get("enable_thinking"));
    }
    ArrayNode messages = r.putArray("messages");
    int image = 0;
    for (JsonNode m : c.path("messages")) {
      ObjectNode out = messages.addObject().put("role", m.path("role").asText());
      if (m.path("content").isTextual()) {
        out.put("content", m.path("content").asText());
        continue;
      }
      ArrayNode parts = out.putArray("content");
      for (JsonNode p : m.path("content")) {
        if (p.path("type").asText().equals("image")) {
          parts.addObject().put("type", "image_url").putObject("image_url")
              .put("url", dataUrl(c.path("images").get(image++).path("file").asText()));
        } else {
          parts.addObject().put("type", "text").put("text", p.path("text").asText());
        }
      }
    }
    return r;
  }
}
