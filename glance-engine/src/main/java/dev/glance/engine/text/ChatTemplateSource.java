package dev.glance.engine.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a checkpoint's chat template text, where transformers may have saved it: {@code
 * chat_template.jinja} (5.x, and recent 4.x processors), {@code chat_template.json} (4.x
 * processors), or the {@code chat_template} entry of {@code tokenizer_config.json} (4.x tokenizers;
 * a string, or a list of {@code {name, template}} of which "default" is used), in that order of
 * preference, as transformers loads them. Also collects the special-token strings
 * ({@code bos_token}, {@code eos_token}, ...) that transformers passes to every template render.
 *
 * @param text the template source
 * @param origin where it came from, for error messages
 * @param specialTokens special-token variables for the template, possibly empty
 */
record ChatTemplateSource(String text, String origin, Map<String, String> specialTokens) {

  static final String JINJA_FILE = "chat_template.jinja";
  static final String JSON_FILE = "chat_template.json";
  static final String TOKENIZER_CONFIG = "tokenizer_config.json";
  private static final List<String> SPECIAL_TOKEN_KEYS =
      List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
          "mask_token");

  ChatTemplateSource {
    specialTokens = Map.copyOf(specialTokens);
  }

  static ChatTemplateSource find(Path dir) {
    Path configFile = dir.resolve(TOKENIZER_CONFIG);
    JsonNode config = Files.isRegularFile(configFile) ? readJson(configFile) : null;
    Map<String, String> specials = config == null ? Map.of() : specialTokens(config);

    Path jinja = dir.resolve(JINJA_FILE);
    if (Files.isRegularFile(jinja)) {
      return new ChatTemplateSource(readString(jinja), jinja.toString(), specials);
    }
    Path json = dir.resolve(JSON_FILE);
    if (Files.isRegularFile(json)) {
      JsonNode node = readJson(json).get("chat_template");
      if (node == null) {
        throw new GlanceException.ModelLoad(json + " has no \"chat_template\" entry");
      }
      return new ChatTemplateSource(templateText(node, json), json.toString(), specials);
    }
    if (config != null && config.hasNonNull("chat_template")) {
      String text = templateText(config.get("chat_template"), configFile);
      return new ChatTemplateSource(text, configFile + " (chat_template)", specials);
    }
    throw new GlanceException.ModelLoad(
        "no chat template in " + dir + ": expected " + JINJA_FILE + ", " + JSON_FILE
            + " or a \"chat_template\" entry in " + TOKENIZER_CONFIG);
  }

  // A template is a string, or a list of named templates of which "default" is the chat one.
  private static String templateText(JsonNode node, Path file) {
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isArray()) {
      StringBuilder names = new StringBuilder();
      for (JsonNode entry : node) {
        String name = entry.path("name").asText();
        if (name.equals("default") && entry.path("template").isTextual()) {
          return entry.get("template").asText();
        }
        names.append(names.isEmpty() ? "" : ", ").append(name);
      }
      throw new GlanceException.ModelLoad(
          file + ": chat_template lists no \"default\" template (has: " + names + ")");
    }
    throw new GlanceException.ModelLoad(
        file + ": chat_template must be a string or a list of {name, template}");
  }

  // Special tokens are strings or AddedToken objects {"content": ...}.
  private static Map<String, String> specialTokens(JsonNode config) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : SPECIAL_TOKEN_KEYS) {
      JsonNode v = config.get(key);
      if (v == null) {
        continue;
      }
      if (v.isTextual()) {
        out.put(key, v.asText());
      } else if (v.path("content").isTextual()) {
        out.put(key, v.get("content").asText());
      }
    }
    return out;
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new GlanceException.ModelLoad("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode readJson(Path file) {
    try {
      JsonNode node = new ObjectMapper().readTree(file.toFile());
      if (node == null || !node.isObject()) {
        throw new GlanceException.ModelLoad(file + " is not a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new GlanceException.ModelLoad(
          "cannot parse " + file + ": " + e.getMessage(), e);
    }
  }
}
