package dev.glance.engine.hub;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import dev.glance.engine.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which files of a repository the engine reads, so a pull fetches only those (a repository may
 * also hold PyTorch weights, GGUF files, examples): the configs, the tokenizer, the chat template
 * and the safetensors weights, single-file or sharded.
 */
final class ModelFiles {
  static final String CONFIG = "config.json";
  static final String INDEX = "model.safetensors.index.json";
  static final String SINGLE = "model.safetensors";
  static final String TOKENIZER = "tokenizer.json";
  /** Read when present; the engine has defaults or alternatives for each. */
  static final List<String> OPTIONAL = List.of("generation_config.json", "preprocessor_config.json",
      "tokenizer_config.json", "chat_template.jinja", "chat_template.json", "special_tokens_map.json");

  private ModelFiles() {}

  /** The shard file names an index's {@code weight_map} points at, in first-seen order. */
  static List<String> shards(Path indexFile) {
    JsonNode map = Json.read(indexFile).path("weight_map");
    if (!map.isObject() || map.isEmpty()) {
      throw new GlanceException.ModelLoad(indexFile + ": no weight_map");
    }
    Set<String> shards = new LinkedHashSet<>();
    for (JsonNode shard : map) { // an object node iterates its values
      shards.add(shard.asText());
    }
    return new ArrayList<>(shards);
  }

  /** The files a snapshot still lacks for the engine to load it; empty when it is complete. */
  static List<String> missing(Path dir) {
    List<String> missing = new ArrayList<>();
    for (String f : List.of(CONFIG, TOKENIZER)) {
      if (!Files.isRegularFile(dir.resolve(f))) {
        missing.add(f);
      }
    }
    Path index = dir.resolve(INDEX);
    if (Files.isRegularFile(index)) {
      try {
        for (String shard : shards(index)) {
          if (!Files.isRegularFile(dir.resolve(shard))) {
            missing.add(shard);
          }
        }
      } catch (GlanceException e) {
        missing.add(INDEX);
      }
    } else if (!Files.isRegularFile(dir.resolve(SINGLE))) {
      missing.add(SINGLE);
    }
    return missing;
  }
}
