package dev.glance.engine.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import dev.glance.engine.model.Glm4vModel;
import dev.glance.engine.model.RopeIndex;
import dev.glance.engine.model.Sequence;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint layouts (dtypes, shards, legacy names) and the errors a broken one gives. */
class CheckpointLoadingTest {
  private static final CpuBackend BACKEND = new CpuBackend();

  @TempDir Path tmp;

  @AfterAll
  static void close() {
    BACKEND.close();
  }

  /** A copy of the fixture's small files (config, tokenizer...) without the weights. */
  private Path skeleton(String name) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    try (var files = Files.list(Fixture.DIR)) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (!n.startsWith("model.safetensors") && !n.startsWith("expected")) {
          Files.copy(f, dir.resolve(n));
        }
      }
    }
    return dir;
  }

  private static Map<String, TensorData> fixtureWeights(CheckpointWeights w) {
    return w.all();
  }

  private static float[] roundToF16(float[] v) {
    float[] r = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
    }
    return r;
  }

  /** Logits of case7's prompt (text) and the vision embeddings of case0 from a checkpoint dir. */
  private static float[][] run(Path dir) {
    try (Glm4vModel m = Glm4vModel.load(dir, BACKEND)) {
      int[] ids = Fixture.ints("case7.input_ids");
      Sequence s = m.newSequence(ids.length);
      s.prefill(m.embedPrompt(ids, null), RopeIndex.of(ids, List.of(), m.config().tokens(), 2), null);
      float[] logits = s.logits().clone();
      Tensor v = m.encodeImages(Fixture.floats("case0.pixel_values"), Fixture.grids("case0"));
      float[] vision = new float[v.rows() * v.cols()];
      BACKEND.download(v, vision);
      return new float[][] {logits, vision};
    }
  }

  @Test
  void f32AndF16CheckpointsGiveTheSameAnswers() throws IOException {
    Path f16 = skeleton("f16");
    Path f32 = skeleton("f32");
    try (CheckpointWeights w = CheckpointWeights.open(Fixture.DIR)) {
      SafetensorsWriter a = new SafetensorsWriter();
      SafetensorsWriter b = new SafetensorsWriter();
      for (TensorData t : fixtureWeights(w).values()) {
        float[] v = roundToF16(t.toFloatArray());
        a.put(t.name(), t.shape(), v);
        b.put(t.name(), t.shape(), v);
      }
      a.write(f16.resolve("model.safetensors"), DType.F16);
      b.write(f32.resolve("model.safetensors"), DType.F32);
    }
    float[][] r16 = run(f16);
    float[][] r32 = run(f32);
    Fixture.assertClose(r16[0], r32[0], 1e-5, "F16 vs F32 logits");
    Fixture.assertClose(r16[1], r32[1], 1e-5, "F16 vs F32 vision");
    // And the F32 copy of the exact bf16 weights reproduces the reference.
    Path exact = skeleton("f32exact");
    try (CheckpointWeights w = CheckpointWeights.open(Fixture.DIR)) {
      SafetensorsWriter c = new SafetensorsWriter();
      for (TensorData t : w.all().values()) {
        c.put(t.name(), t.shape(), t.toFloatArray());
      }
      c.write(exact.resolve("model.safetensors"), DType.F32);
    }
    float[][] r = run(exact);
    int vocab = 512;
    float[] all = Fixture.floats("case7.logits");
    float[] last = new float[vocab];
    System.arraycopy(all, all.length - vocab, last, 0, vocab);
    Fixture.assertClose(r[0], last, 1e-4, "F32 checkpoint logits");
    Fixture.assertClose(r[1], Fixture.floats("case0.vision_embeds"), 1e-4, "F32 checkpoint vision");
  }

  /** Two shards and an index, with the older tensor names (model.layers.*, visual.*). */
  @Test
  void shardedCheckpointWithLegacyNames() throws IOException {
    Path dir = skeleton("sharded");
    ObjectNode index = Json.mapper().createObjectNode();
    ObjectNode map = index.putObject("weight_map");
    try (CheckpointWeights w = CheckpointWeights.open(Fixture.DIR)) {
      List<TensorData> all = new ArrayList<>(w.all().values());
      SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
      for (int i = 0; i < all.size(); i++) {
        TensorData t = all.get(i);
        String name = t.name().replace("model.language_model.", "model.").replace("model.visual.", "visual.");
        String shard = "model-0000" + (i % 2 + 1) + "-of-00002.safetensors";
        shards[i % 2].put(name, t.shape(), t.toFloatArray());
        map.put(name, shard);
      }
      shards[0].write(dir.resolve("model-00001-of-00002.safetensors"), DType.BF16);
      shards[1].write(dir.resolve("model-00002-of-00002.safetensors"), DType.BF16);
    }
    Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
    float[][] r = run(dir);
    Fixture.assertClose(r[1], Fixture.floats("case0.vision_embeds"), 1e-4, "sharded vision");
    float[][] ref = run(Fixture.DIR);
    // Not bit-equal: the Vector API's lane reduction order differs between JIT tiers.
    Fixture.assertClose(r[0], ref[0], 1e-5, "sharded logits");
  }

  @Test
  void truncatedWeightsNameTheFileAndTensor() throws IOException {
    Path dir = skeleton("truncated");
    byte[] all = Files.readAllBytes(Fixture.DIR.resolve("model.safetensors"));
    Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length / 2));
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Glm4vModel.load(dir, BACKEND));
    assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void missingWeightsSayWhatIsMissing() throws IOException {
    Path dir = skeleton("missing");
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Glm4vModel.load(dir, BACKEND));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
  }

  @Test
  void missingConfigIsReported() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Glm4vModel.load(dir, BACKEND));
    assertTrue(e.getMessage().contains("config.json"), e.getMessage());
  }

  @Test
  void aTensorOfTheWrongShapeIsNamed() throws IOException {
    Path dir = skeleton("shape");
    Files.copy(Fixture.DIR.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    ObjectNode cfg = (ObjectNode) Json.read(dir.resolve("config.json"));
    ((ObjectNode) cfg.get("text_config")).put("intermediate_size", 300);
    Files.writeString(dir.resolve("config.json"), cfg.toString());
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Glm4vModel.load(dir, BACKEND));
    assertTrue(e.getMessage().contains("mlp.gate_up_proj.weight") && e.getMessage().contains("[600, 128]"),
        e.getMessage());
  }

  @Test
  void notASafetensorsFile() throws IOException {
    Path dir = skeleton("garbage");
    Files.writeString(dir.resolve("model.safetensors"), "this is not a checkpoint at all");
    var e = assertThrows(GlanceException.ModelLoad.class, () -> Glm4vModel.load(dir, BACKEND));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
  }
}
