package dev.glance.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

  @Test
  void readsEveryValueFromTheFixtureConfig() {
    ModelConfig c = ModelConfig.load(Fixture.DIR);
    assertEquals("glm46v", c.modelType());
    var t = c.text();
    assertEquals(512, t.vocabSize());
    assertEquals(128, t.hidden());
    assertEquals(2, t.layers());
    assertEquals(4, t.heads());
    assertEquals(2, t.kvHeads());
    assertEquals(32, t.headDim());
    assertEquals(256, t.intermediate());
    assertEquals(16, t.rotaryDim());
    assertEquals(List.of(2, 3, 3), t.mropeSection());
    assertEquals(10000.0, t.ropeTheta());
    assertEquals(1e-5f, t.rmsEps());
    var v = c.vision();
    assertEquals(2, v.depth());
    assertEquals(64, v.hidden());
    assertEquals(4, v.heads());
    assertEquals(96, v.mergerIntermediate());
    assertEquals(128, v.outHidden());
    assertEquals(1176, v.patchInput());
    assertEquals(494, c.tokens().image());
    assertEquals(490, c.tokens().imageStart());
    assertEquals(491, c.tokens().imageEnd());
  }

  /** transformers 4.x spelling: rope_theta / partial_rotary_factor / rope_scaling.mrope_section. */
  @Test
  void readsTheGlm41vLayout() throws Exception {
    ObjectNode root = (ObjectNode) Json.read(Fixture.DIR.resolve("config.json")).deepCopy();
    root.put("model_type", "glm4v");
    root.putArray("architectures").add("Glm4vForConditionalGeneration");
    ObjectNode text = (ObjectNode) root.get("text_config");
    text.remove("rope_parameters");
    text.remove("partial_rotary_factor");
    text.put("rope_theta", 500000.0);
    text.put("partial_rotary_factor", 0.25);
    text.putObject("rope_scaling").put("type", "mrope").putArray("mrope_section").add(1).add(1).add(2);
    text.put("eos_token_id", 480);
    root.remove("image_token_id");
    text.put("image_token_id", 777);
    ModelConfig c = ModelConfig.parse(root, "config.json");
    assertEquals(500000.0, c.text().ropeTheta());
    assertEquals(8, c.text().rotaryDim());
    assertEquals(List.of(1, 1, 2), c.text().mropeSection());
    assertEquals(777, c.tokens().image());
    assertEquals(List.of(480), c.eosIds());
  }

  @Test
  void refusesAnUnknownArchitecture() {
    ObjectNode root = (ObjectNode) Json.read(Fixture.DIR.resolve("config.json")).deepCopy();
    root.put("model_type", "llama");
    root.putArray("architectures").add("LlamaForCausalLM");
    var e = assertThrows(GlanceException.Unsupported.class, () -> ModelConfig.parse(root, "x/config.json"));
    assertTrue(e.getMessage().contains("llama") && e.getMessage().contains("x/config.json"), e.getMessage());
  }

  @Test
  void namesAMissingField() {
    ObjectNode root = (ObjectNode) Json.read(Fixture.DIR.resolve("config.json")).deepCopy();
    ((ObjectNode) root.get("text_config")).remove("num_attention_heads");
    var e = assertThrows(GlanceException.ModelLoad.class, () -> ModelConfig.parse(root, "config.json"));
    assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
  }

  @Test
  void refusesAnMropeSectionThatDoesNotCoverTheRotaryPairs() {
    ObjectNode root = (ObjectNode) Json.read(Fixture.DIR.resolve("config.json")).deepCopy();
    ((ObjectNode) root.get("text_config").get("rope_parameters")).putArray("mrope_section").add(4).add(6).add(6);
    var e = assertThrows(GlanceException.ModelLoad.class, () -> ModelConfig.parse(root, "config.json"));
    assertTrue(e.getMessage().contains("mrope_section"), e.getMessage());
  }
}
