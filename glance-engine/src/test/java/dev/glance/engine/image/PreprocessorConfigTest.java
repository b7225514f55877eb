package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreprocessorConfigTest {

  @Test
  void loadsTheFixtureConfig() {
    PreprocessorConfig c = PreprocessorConfig.load(Fixtures.tinyA().resolve("preprocessor_config.json"));
    assertEquals(14, c.patchSize());
    assertEquals(2, c.temporalPatchSize());
    assertEquals(2, c.mergeSize());
    assertEquals(12544, c.minPixels());
    assertEquals(200704, c.maxPixels());
    assertEquals(List.of(0.48145466, 0.4578275, 0.40821073), c.imageMean());
    assertEquals(List.of(0.26862954, 0.26130258, 0.27577711), c.imageStd());
    assertEquals(0.00392156862745098, c.rescaleFactor());
    assertTrue(c.doResize() && c.doRescale() && c.doNormalize() && c.doConvertRgb());
    assertEquals(28, c.factor());
    assertEquals(1176, c.rowWidth());
  }

  @Test
  void absentKeysTakeTheGlmDefaults() {
    PreprocessorConfig c = PreprocessorConfig.parse("{}", "test");
    assertEquals(PreprocessorConfig.defaults(), c);
    assertEquals(12544, c.minPixels());
    assertEquals(9633792, c.maxPixels());
    assertEquals(PreprocessorConfig.CLIP_MEAN, c.imageMean());
    assertEquals(1 / 255.0, c.rescaleFactor());
  }

  @Test
  void acceptsMinMaxPixelKeysOverridingSize() {
    PreprocessorConfig c = PreprocessorConfig.parse(
        "{\"min_pixels\": 3136, \"max_pixels\": 1003520.0, \"do_normalize\": false}", "test");
    assertEquals(3136, c.minPixels());
    assertEquals(1003520, c.maxPixels());
    assertFalse(c.doNormalize());
    c = PreprocessorConfig.parse("{\"size\": {\"shortest_edge\": 100, \"longest_edge\": 200000},"
        + " \"max_pixels\": 300000}", "test");
    assertEquals(100, c.minPixels());
    assertEquals(300000, c.maxPixels());
  }

  @Test
  void badValuesNameFileAndKey(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("preprocessor_config.json"),
        "{\"patch_size\": \"fourteen\"}");
    GlanceException.ModelLoad e = assertThrows(GlanceException.ModelLoad.class,
        () -> PreprocessorConfig.load(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("patch_size"),
        e.getMessage());

    Files.writeString(file, "{\"image_mean\": [0.5, 0.5]}");
    e = assertThrows(GlanceException.ModelLoad.class, () -> PreprocessorConfig.load(file));
    assertTrue(e.getMessage().contains("image_mean"), e.getMessage());

    Files.writeString(file, "{\"size\": {\"shortest_edge\": 5000, \"longest_edge\": 10}}");
    e = assertThrows(GlanceException.ModelLoad.class, () -> PreprocessorConfig.load(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());

    Files.writeString(file, "{\"patch_size\": 14,");
    e = assertThrows(GlanceException.ModelLoad.class, () -> PreprocessorConfig.load(file));
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());

    Files.writeString(file, "{\"resample\": 2}");
    GlanceException.Unsupported u = assertThrows(GlanceException.Unsupported.class,
        () -> PreprocessorConfig.load(file));
    assertTrue(u.getMessage().contains("resample"), u.getMessage());
  }

  @Test
  void missingFileIsModelLoad(@TempDir Path dir) {
    Path file = dir.resolve("preprocessor_config.json");
    GlanceException.ModelLoad e = assertThrows(GlanceException.ModelLoad.class,
        () -> PreprocessorConfig.load(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }
}
