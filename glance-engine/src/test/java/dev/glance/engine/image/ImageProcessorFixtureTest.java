package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline (decode, smart resize, Pillow bicubic, normalise, patch) against the
 * transformers 5.17 reference fixture for every case with images. The fixture came from the
 * torchvision backend, which differs from Pillow by up to one 8-bit level (0.015 after
 * normalisation), hence a tolerance of two levels on the maximum and a tight one on the mean.
 */
class ImageProcessorFixtureTest {

  private static Path dir;
  private static JsonNode cases;
  private static ImageProcessor processor;

  @BeforeAll
  static void load() throws Exception {
    dir = Fixtures.tinyA();
    cases = new ObjectMapper().readTree(dir.resolve("expected.json").toFile()).get("cases");
    processor = new ImageProcessor(PreprocessorConfig.load(dir.resolve("preprocessor_config.json")));
  }

  @Test
  void pixelValuesAndGridsMatchEveryImageCase() {
    ImageDecoder decoder = new ImageDecoder();
    int checked = 0;
    StringBuilder report = new StringBuilder();
    for (JsonNode c : cases) {
      if (c.get("images").isEmpty()) {
        continue;
      }
      String name = c.get("name").asText();
      List<RgbImage> images = new ArrayList<>();
      for (JsonNode im : c.get("images")) {
        RgbImage img = decoder.decode(dir.resolve(im.get("file").asText()));
        assertEquals(im.get("width").asInt(), img.width(), name + " width");
        assertEquals(im.get("height").asInt(), img.height(), name + " height");
        images.add(img);
      }
      PixelValues pv = processor.process(images);

      long[] grid = dev.glance.engine.Fixture.tensor(name + ".image_grid_thw").toLongArray();
      long[] actualGrid = pv.grids().stream()
          .flatMapToLong(g -> java.util.stream.LongStream.of(g.t(), g.h(), g.w())).toArray();
      assertArrayEquals(grid, actualGrid, name + " image_grid_thw");

      long[] shape = dev.glance.engine.Fixture.tensor(name + ".pixel_values").shape();
      assertEquals(shape[0], pv.patches(), name + " patches");
      assertEquals(shape[1], pv.rowWidth(), name + " row width");
      float[] ref = dev.glance.engine.Fixture.floats(name + ".pixel_values");
      double max = 0;
      double sum = 0;
      for (int i = 0; i < ref.length; i++) {
        double d = Math.abs((double) ref[i] - pv.values()[i]);
        max = Math.max(max, d);
        sum += d;
      }
      double mean = sum / ref.length;
      report.append(String.format("%s: grid %s, max abs %.4f, mean abs %.2e%n", name,
          pv.grids(), max, mean));
      assertTrue(max <= 0.03, name + " max abs error " + max);
      assertTrue(mean <= 0.002, name + " mean abs error " + mean);
      int tokens = pv.grids().stream().mapToInt(g -> g.tokens(2)).sum();
      assertEquals(c.get("image_tokens").asInt(), tokens, name + " image tokens");
      checked++;
    }
    System.out.print(report);
    assertEquals(7, checked, "image cases checked");
  }
}
