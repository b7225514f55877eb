package dev.glance.engine.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.glance.engine.GlanceException;
import dev.glance.engine.io.Json;
import dev.glance.engine.io.ModelConfig;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Model shapes the benchmark builds with random weights. {@code glm46v-flash} is GLM-4.6V-Flash
 * (text: hidden 4096, 40 layers, 32 heads, 2 KV heads, intermediate 13696, vocab 151552; the real
 * vision tower: 24 blocks of width 1536, merger width 13696); {@code mid} keeps the vision blocks
 * and vocabulary but has a 2048-wide, 24-layer text decoder (16 heads, 2 KV heads, intermediate
 * 6848; the vision output width and merger follow the text: 2048 and 6848); {@code tiny} is the
 * size of the test fixture.
 */
public enum BenchShape {
  TINY("tiny", 512, 128, 2, 4, 2, 256, 2, 64, 4, 256, 4096),
  MID("mid", 151552, 2048, 24, 16, 2, 6848, 24, 1536, 12, 6848, 131072),
  GLM46V_FLASH("glm46v-flash", 151552, 4096, 40, 32, 2, 13696, 24, 1536, 12, 13696, 131072);

  private final String label;
  private final int vocab;
  private final int hidden;
  private final int layers;
  private final int heads;
  private final int kvHeads;
  private final int intermediate;
  private final int visionDepth;
  private final int visionHidden;
  private final int visionHeads;
  private final int mergerIntermediate;
  private final int context;

  BenchShape(String label, int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate,
      int visionDepth, int visionHidden, int visionHeads, int mergerIntermediate, int context) {
    this.label = label;
    this.vocab = vocab;
    this.hidden = hidden;
    this.layers = layers;
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.intermediate = intermediate;
    this.visionDepth = visionDepth;
    this.visionHidden = visionHidden;
    this.visionHeads = visionHeads;
    this.mergerIntermediate = mergerIntermediate;
    this.context = context;
  }

  public String label() {
    return label;
  }

  public static BenchShape parse(String text) {
    for (BenchShape s : values()) {
      if (s.label.equalsIgnoreCase(text == null ? "" : text.strip())) {
        return s;
      }
    }
    throw new GlanceException.BadRequest("--shape: '" + text + "' is not one of "
        + Arrays.stream(values()).map(BenchShape::label).collect(Collectors.joining(", ")));
  }

  /** The shape as a config.json would state it (GLM-4.6V-Flash's token ids and rotary setup). */
  public ModelConfig config() {
    int image = Math.min(vocab - 18, 151343);
    String json = """
        {"architectures": ["Glm4vForConditionalGeneration"], "model_type": "glm4v",
         "image_token_id": %d, "image_start_token_id": %d, "image_end_token_id": %d,
         "video_token_id": %d, "video_start_token_id": %d, "video_end_token_id": %d,
         "text_config": {"vocab_size": %d, "hidden_size": %d, "num_hidden_layers": %d,
           "num_attention_heads": %d, "num_key_value_heads": %d, "intermediate_size": %d,
           "rms_norm_eps": 1e-5, "max_position_embeddings": %d,
           "rope_parameters": {"rope_theta": 500000.0, "partial_rotary_factor": 0.5,
             "mrope_section": [%s]}},
         "vision_config": {"depth": %d, "hidden_size": %d, "num_heads": %d, "intermediate_size": %d,
           "out_hidden_size": %d, "patch_size": 14, "temporal_patch_size": 2,
           "spatial_merge_size": 2, "in_channels": 3, "image_size": 336, "rms_norm_eps": 1e-5}}
        """.formatted(image, image - 4, image - 3, image + 1, image - 2, image - 1, vocab, hidden, layers,
        heads, kvHeads, intermediate, context, mropeSection(hidden / heads / 4), visionDepth, visionHidden,
        visionHeads, mergerIntermediate, hidden);
    try {
      return ModelConfig.parse(Json.mapper().readTree(json), "bench shape " + label);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("bench shape " + label + ": " + e.getMessage(), e);
    }
  }

  /** GLM's [8, 12, 12] split of 32 rotary pairs, scaled to {@code pairs}. */
  private static String mropeSection(int pairs) {
    int t = pairs / 4;
    int h = (pairs - t) / 2;
    return t + ", " + h + ", " + (pairs - t - h);
  }
}
