package dev.glance.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The checkpoint's {@code generation_config.json}: stop ids and sampling defaults as saved. Every
 * field may be absent (the fixture's file has none of them); absent fields are empty / NaN and the
 * caller falls back to {@code config.json} or its own defaults.
 */
public record GenerationConfig(
    List<Integer> eosIds, boolean doSample, double temperature, double topP, int topK,
    double repetitionPenalty) {

  public static final String FILE = "generation_config.json";

  public static GenerationConfig load(Path dir) {
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      return new GenerationConfig(List.of(), false, Double.NaN, Double.NaN, 0, Double.NaN);
    }
    JsonNode n = Json.read(file);
    return new GenerationConfig(
        ModelConfig.idList(n.path("eos_token_id")),
        n.path("do_sample").asBoolean(false),
        n.path("temperature").isNumber() ? n.path("temperature").asDouble() : Double.NaN,
        n.path("top_p").isNumber() ? n.path("top_p").asDouble() : Double.NaN,
        n.path("top_k").asInt(0),
        n.path("repetition_penalty").isNumber() ? n.path("repetition_penalty").asDouble() : Double.NaN);
  }
}
