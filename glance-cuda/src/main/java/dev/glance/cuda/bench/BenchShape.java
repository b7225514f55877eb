package dev.glance.cuda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A GLM-4V model shape to benchmark without a checkpoint. {@code glm46v-flash} is the real
 * GLM-4.6V-Flash (spec section 1: text 4096 x 40 layers, 32/2 heads, 13696, vocab 151552; vision
 * 24 blocks of 1536), {@code mid} the same vision tower with a 2048 x 24 text model, {@code tiny}
 * the reference fixture's shape.
 */
public record BenchShape(String name, int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate,
    double ropeTheta, List<Integer> mropeSection, int visionDepth, int visionHidden, int visionHeads,
    int mergerIntermediate) {

  public static final List<String> NAMES = List.of("glm46v-flash", "mid", "tiny");

  public static BenchShape named(String name) {
    return switch (name) {
      case "glm46v-flash" -> new BenchShape(name, 151552, 4096, 40, 32, 2, 13696, 500000, List.of(8, 12, 12), 24, 1536,
          12, 13696);
      case "mid" -> new BenchShape(name, 151552, 2048, 24, 16, 2, 6848, 500000, List.of(8, 12, 12), 24, 1536, 12, 6848);
      case "tiny" -> new BenchShape(name, 512, 128, 2, 4, 2, 256, 10000, List.of(2, 3, 3), 2, 64, 4, 96);
      default -> throw new IllegalArgumentException("unknown shape " + name + "; known: " + NAMES);
    };
  }

  /** The config.json of this shape, in the transformers 5 layout (GLM-4.6V token ids). */
  public String configJson() {
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    root.putArray("architectures").add("Glm4vForConditionalGeneration");
    root.put("model_type", "glm4v");
    int image = vocab > 151363 ? 151363 : vocab - 18;
    root.put("image_token_id", image);
    root.put("image_start_token_id", image - 24);
    root.put("image_end_token_id", image - 23);
    root.put("video_token_id", image + 1);
    root.put("video_start_token_id", image - 22);
    root.put("video_end_token_id", image - 21);
    ObjectNode t = root.putObject("text_config");
    t.put("model_type", "glm4v_text");
    t.put("vocab_size", vocab);
    t.put("hidden_size", hidden);
    t.put("num_hidden_layers", layers);
    t.put("num_attention_heads", heads);
    t.put("num_key_value_heads", kvHeads);
    t.put("intermediate_size", intermediate);
    t.put("rms_norm_eps", 1e-5);
    t.put("max_position_embeddings", 131072);
    ObjectNode rope = t.putObject("rope_parameters");
    rope.put("rope_type", "default");
    rope.put("rope_theta", ropeTheta);
    rope.put("partial_rotary_factor", 0.5);
    var sec = rope.putArray("mrope_section");
    mropeSection.forEach(sec::add);
    ObjectNode v = root.putObject("vision_config");
    v.put("model_type", "glm4v_vision");
    v.put("depth", visionDepth);
    v.put("hidden_size", visionHidden);
    v.put("num_heads", visionHeads);
    v.put("intermediate_size", mergerIntermediate);
    v.put("out_hidden_size", hidden);
    v.put("patch_size", 14);
    v.put("temporal_patch_size", 2);
    v.put("spatial_merge_size", 2);
    v.put("in_channels", 3);
    v.put("image_size", 336);
    v.put("rms_norm_eps", 1e-5);
    return root.toPrettyString();
  }
}
