package dev.glance.cuda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.io.ModelConfig;
import java.util.List;

/**
 * A GLM-4V model shape to benchmark without a checkpoint, as the flat numbers the synthetic
 * checkpoint writer needs. The shapes themselves ({@code glm46v-flash}, {@code mid}, {@code tiny})
 * are defined once, by the engine's {@link dev.glance.engine.bench.BenchShape}; this record is
 * read off its config so the CPU and GPU benchmarks always measure the same models.
 */
public record BenchShape(String name, int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate,
    double ropeTheta, List<Integer> mropeSection, int visionDepth, int visionHidden, int visionHeads,
    int mergerIntermediate) {

  public static final List<String> NAMES = java.util.Arrays.stream(dev.glance.engine.bench.BenchShape.values())
      .map(dev.glance.engine.bench.BenchShape::label).toList();

  public static BenchShape named(String name) {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("unknown shape " + name + "; known: " + NAMES);
    }
    ModelConfig c = dev.glance.engine.bench.BenchShape.parse(name).config();
    var t = c.text();
    var v = c.vision();
    return new BenchShape(name, t.vocabSize(), t.hidden(), t.layers(), t.heads(), t.kvHeads(), t.intermediate(),
        t.ropeTheta(), t.mropeSection(), v.depth(), v.hidden(), v.heads(), v.mergerIntermediate());
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
