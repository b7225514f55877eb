package dev.glance.cuda.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.cuda.CudaBackend;
import dev.glance.cuda.emu.EmulatedDevice;
import dev.glance.engine.io.CheckpointWeights;
import dev.glance.engine.io.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark harness on the emulated device with the tiny shape: the synthetic checkpoint
 * loads through the real loader, and one run produces every figure. (Speed on the emulation
 * means nothing; the numbers come from a GPU.)
 */
class GpuBenchmarkTest {

  @Test
  void syntheticCheckpointsHaveTheRealShapesAndAreSparse(@TempDir Path tmp) throws Exception {
    BenchShape flash = BenchShape.named("glm46v-flash");
    ModelConfig c = ModelConfig.parse(new com.fasterxml.jackson.databind.ObjectMapper().readTree(flash.configJson()), "x");
    assertEquals(4096, c.text().hidden());
    assertEquals(128, c.text().headDim());
    assertEquals(64, c.text().rotaryDim());
    assertEquals(128, c.vision().headDim());
    // 10.3 B parameters: about 20.6 GB in bf16, 17.6 GB of them read by each decode step
    long total = SyntheticCheckpoint.totalWeightBytes(flash);
    assertTrue(total > 20.3e9 && total < 20.9e9, "total " + total);
    long decode = SyntheticCheckpoint.decodeWeightBytes(flash);
    assertTrue(decode > 17.4e9 && decode < 17.8e9, "decode " + decode);

    Path dir = SyntheticCheckpoint.write(BenchShape.named("mid"), tmp.resolve("mid"));
    Path file = dir.resolve("model.safetensors");
    long logical = Files.size(file);
    Process stat = new ProcessBuilder("stat", "--format=%b %B", file.toString()).start();
    String[] blocks = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
    assertEquals(0, stat.waitFor());
    long allocated = Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    assertTrue(logical > 4e9, "logical size " + logical);
    assertTrue(allocated < 64L << 20, "sparse: " + allocated + " bytes on disk");
    try (CheckpointWeights w = CheckpointWeights.open(dir)) {
      assertEquals(1f, w.find("model.language_model.norm.weight").getFloat(7));
      assertEquals(0f, w.find("lm_head.weight").getFloat(12345));
    }
  }

  @Test
  void oneRunOnTheEmulatedDeviceGivesEveryFigure(@TempDir Path tmp) {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (CudaBackend backend = new CudaBackend(new EmulatedDevice())) {
      var o = new GpuBenchmark.Options("tiny", tmp.resolve("tiny"), 3, 5, 1, 2, 1 << 20, 7);
      GpuBenchmark.Report r = GpuBenchmark.run(backend, o, new PrintStream(log, true));
      assertEquals(144, r.imageTokens(), "336x336 is 24x24 patches, 144 tokens");
      assertEquals(144 + 5 + 1 + 5 + 2, r.promptTokens());
      assertTrue(r.visionMs() > 0 && r.prefillMs() > 0 && r.decodeMsPerToken() > 0 && r.endToEndMs() > 0, r.toText());
      assertTrue(r.copyBandwidthGBs() > 0 && r.decodeRooflineFraction() > 0, r.toText());
      assertTrue(r.toJson().contains("\"decode_roofline_fraction\""), r.toJson());
      assertTrue(log.toString().contains("bench: run 1:"), log.toString());
    }
  }
}
