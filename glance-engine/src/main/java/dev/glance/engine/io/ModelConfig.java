package dev.glance.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Everything the model math needs from {@code config.json}. Both layouts are read: transformers
 * 5.x ({@code rope_parameters}, model_type {@code glm46v}) and 4.x ({@code rope_theta},
 * {@code partial_rotary_factor}, {@code rope_scaling.mrope_section}, model_type {@code glm4v}).
 */
public record ModelConfig(
    String modelType, TextConfig text, VisionConfig vision, TokenIds tokens, List<Integer> eosIds) {

  public static final String FILE = "config.json";
  private static final Set<String> MODEL_TYPES = Set.of("glm4v", "glm46v");
  private static final Set<String> ARCHITECTURES =
      Set.of("Glm4vForConditionalGeneration", "Glm46VForConditionalGeneration");

  /** The text decoder's shape and rotary settings. headDim = hidden / heads, as transformers does. */
  public record TextConfig(
      int vocabSize,
      int hidden,
      int layers,
      int heads,
      int kvHeads,
      int headDim,
      int intermediate,
      float rmsEps,
      double ropeTheta,
      int rotaryDim,
      List<Integer> mropeSection,
      int maxPositions) {}

  /** The vision tower's shape. {@code mergerIntermediate} is config's intermediate_size. */
  public record VisionConfig(
      int depth,
      int hidden,
      int heads,
      int headDim,
      int mergerIntermediate,
      int outHidden,
      int patchSize,
      int temporalPatchSize,
      int spatialMergeSize,
      int inChannels,
      float rmsEps,
      double ropeTheta) {

    /** Width of one flattened patch row: channels x temporal x patch x patch. */
    public int patchInput() {
      return inChannels * temporalPatchSize * patchSize * patchSize;
    }
  }

  /** Special token ids the model itself uses (not just the template). */
  public record TokenIds(
      int image, int imageStart, int imageEnd, int video, int videoStart, int videoEnd) {}

  public static ModelConfig load(Path dir) {
    Path file = dir.resolve(FILE);
    return parse(Json.read(file), file.toString());
  }

  public static ModelConfig parse(JsonNode root, String where) {
    Reader r = new Reader(root, where);
    String modelType = root.path("model_type").asText("");
    boolean knownArch = false;
    for (JsonNode a : root.path("architectures")) {
      knownArch |= ARCHITECTURES.contains(a.asText());
    }
    if (!MODEL_TYPES.contains(modelType) && !knownArch) {
      throw new GlanceException.Unsupported(
          where + ": model_type '" + modelType + "' with architectures " + root.path("architectures")
              + " is not supported; Glance runs Glm4vForConditionalGeneration (model_type glm4v or glm46v)");
    }
    JsonNode t = root.path("text_config");
    JsonNode v = root.path("vision_config");
    if (!t.isObject() || !v.isObject()) {
      throw new GlanceException.ModelLoad(where + ": missing text_config or vision_config");
    }
    Reader tr = new Reader(t, where + " text_config");
    Reader vr = new Reader(v, where + " vision_config");

    int hidden = tr.positive("hidden_size");
    int heads = tr.positive("num_attention_heads");
    if (hidden % heads != 0) {
      throw new GlanceException.ModelLoad(where + ": text hidden_size " + hidden
          + " is not a multiple of num_attention_heads " + heads);
    }
    int kvHeads = t.has("num_key_value_heads") ? tr.positive("num_key_value_heads") : heads;
    if (heads % kvHeads != 0) {
      throw new GlanceException.ModelLoad(where + ": num_attention_heads " + heads
          + " is not a multiple of num_key_value_heads " + kvHeads);
    }
    int headDim = hidden / heads;
    JsonNode rope = t.path("rope_parameters");
    if (!rope.isObject()) {
      rope = t.path("rope_scaling");
    }
    double theta = firstNumber(10000.0, rope.path("rope_theta"), t.path("rope_theta"));
    double partial =
        firstNumber(1.0, rope.path("partial_rotary_factor"), t.path("partial_rotary_factor"));
    int rotaryDim = (int) (headDim * partial);
    if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > headDim) {
      throw new GlanceException.ModelLoad(where + ": partial_rotary_factor " + partial
          + " gives rotary dim " + rotaryDim + " for head_dim " + headDim);
    }
    JsonNode sec = rope.path("mrope_section");
    if (!sec.isArray()) {
      sec = t.path("rope_scaling").path("mrope_section");
    }
    if (!sec.isArray() || sec.isEmpty()) {
      throw new GlanceException.ModelLoad(where + ": text_config has no mrope_section "
          + "(looked in rope_parameters and rope_scaling)");
    }
    List<Integer> section = new ArrayList<>();
    int sum = 0;
    for (JsonNode s : sec) {
      section.add(s.asInt());
      sum += s.asInt();
    }
    if (sum != rotaryDim / 2) {
      throw new GlanceException.ModelLoad(where + ": mrope_section " + section + " sums to " + sum
          + ", expected rotary_dim/2 = " + rotaryDim / 2);
    }
    TextConfig text = new TextConfig(
        tr.positive("vocab_size"), hidden, tr.positive("num_hidden_layers"), heads, kvHeads,
        headDim, tr.positive("intermediate_size"), (float) tr.number("rms_norm_eps", 1e-5),
        theta, rotaryDim, List.copyOf(section), t.path("max_position_embeddings").asInt(0));

    int vHidden = vr.positive("hidden_size");
    int vHeads = vr.positive("num_heads");
    if (vHidden % vHeads != 0) {
      throw new GlanceException.ModelLoad(where + ": vision hidden_size " + vHidden
          + " is not a multiple of num_heads " + vHeads);
    }
    double vTheta = firstNumber(10000.0, v.path("rope_parameters").path("rope_theta"), v.path("rope_theta"));
    VisionConfig vision = new VisionConfig(
        vr.positive("depth"), vHidden, vHeads, vHidden / vHeads, vr.positive("intermediate_size"),
        vr.positive("out_hidden_size"), vr.positive("patch_size"),
        v.has("temporal_patch_size") ? vr.positive("temporal_patch_size") : 2,
        v.has("spatial_merge_size") ? vr.positive("spatial_merge_size") : 2,
        v.has("in_channels") ? vr.positive("in_channels") : 3,
        (float) vr.number("rms_norm_eps", 1e-5), vTheta);
    if (vision.outHidden() != text.hidden()) {
      throw new GlanceException.ModelLoad(where + ": vision out_hidden_size " + vision.outHidden()
          + " differs from text hidden_size " + text.hidden());
    }

    TokenIds tokens = new TokenIds(
        r.tokenId("image_token_id", t), r.tokenId("image_start_token_id", t),
        r.tokenId("image_end_token_id", t), r.tokenId("video_token_id", t),
        r.tokenId("video_start_token_id", t), r.tokenId("video_end_token_id", t));
    List<Integer> eos = idList(t.has("eos_token_id") ? t.path("eos_token_id") : root.path("eos_token_id"));
    return new ModelConfig(modelType, text, vision, tokens, eos);
  }

  /** An int or a list of ints (generation_config's eos_token_id may be either). */
  static List<Integer> idList(JsonNode n) {
    List<Integer> ids = new ArrayList<>();
    if (n.isInt() || n.isLong()) {
      ids.add(n.asInt());
    } else if (n.isArray()) {
      for (JsonNode x : n) {
        ids.add(x.asInt());
      }
    }
    return List.copyOf(ids);
  }

  private static double firstNumber(double fallback, JsonNode... nodes) {
    for (JsonNode n : nodes) {
      if (n.isNumber()) {
        return n.asDouble();
      }
    }
    return fallback;
  }

  private record Reader(JsonNode node, String where) {
    int positive(String key) {
      JsonNode n = node.path(key);
      if (!n.canConvertToInt() || n.asInt() <= 0) {
        throw new GlanceException.ModelLoad(where + ": " + key + " is missing or not a positive integer");
      }
      return n.asInt();
    }

    double number(String key, double fallback) {
      JsonNode n = node.path(key);
      return n.isNumber() ? n.asDouble() : fallback;
    }

    int tokenId(String key, JsonNode alt) {
      JsonNode n = node.path(key);
      if (!n.canConvertToInt()) {
        n = alt.path(key);
      }
      if (!n.canConvertToInt()) {
        throw new GlanceException.ModelLoad(where + ": " + key + " is missing");
      }
      return n.asInt();
    }
  }
}
