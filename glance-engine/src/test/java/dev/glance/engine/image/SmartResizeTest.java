package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SmartResizeTest {

  private static final long MIN = 12544;
  private static final long MAX = 9633792;

  /** Spec 2.2 worked examples, W x H -> grid (t, h, w) with the GLM defaults. */
  @ParameterizedTest(name = "{0}x{1} -> grid {2}x{3}")
  @CsvSource({
      "6000, 4000, 128, 192", "4000, 3000, 134, 180", "3000, 3000, 156, 156",
      "5000, 4000, 140, 174", "1700, 2200, 158, 122", "100, 100, 8, 8", "640, 480, 34, 46"})
  void specExamples(int width, int height, int gridH, int gridW) {
    SmartResize.Size size = SmartResize.of(height, width, 28, MIN, MAX, 2);
    assertEquals(gridH * 14, size.height(), "height");
    assertEquals(gridW * 14, size.width(), "width");
    ImageGrid grid = new ImageProcessor(PreprocessorConfig.defaults()).grid(width, height);
    assertEquals(new ImageGrid(1, gridH, gridW), grid);
  }

  @Test
  void sixThousandByFourThousandIsTheTokenBudget() {
    ImageGrid grid = new ImageProcessor(PreprocessorConfig.defaults()).grid(6000, 4000);
    assertEquals(6144, grid.tokens(2));
    assertEquals(391, new ImageProcessor(PreprocessorConfig.defaults()).grid(640, 480).tokens(2));
  }

  @Test
  void halfWayRoundsToEven() {
    // 70 / 28 = 2.5 rounds to 2 (Python round), not 3 (Math.round): 56, not 84.
    assertEquals(new SmartResize.Size(56, 280), SmartResize.of(70, 280, 28, MIN, MAX, 2));
    // 98 / 28 = 3.5 rounds to 4.
    assertEquals(new SmartResize.Size(112, 280), SmartResize.of(98, 280, 28, MIN, MAX, 2));
  }

  @Test
  void tinyImagesAreScaledUpFirst() {
    assertEquals(new SmartResize.Size(84, 84), SmartResize.of(1, 1, 28, MIN, MAX, 2));
    assertEquals(new SmartResize.Size(28, 1400), SmartResize.of(10, 500, 28, MIN, MAX, 2));
    assertEquals(new SmartResize.Size(5600, 28), SmartResize.of(600, 3, 28, MIN, MAX, 2));
  }

  @Test
  void extremeAspectRatioIsRefused() {
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> SmartResize.of(10, 3000, 28, MIN, MAX, 2));
    assertTrue(e.getMessage().contains("3000x10") && e.getMessage().contains("aspect ratio"),
        e.getMessage());
    // After the small-side scale-up, 1 x 300 becomes 28 x 8400: ratio 300.
    assertThrows(GlanceException.BadImage.class, () -> SmartResize.of(300, 1, 28, MIN, MAX, 2));
    // Exactly 200 is allowed.
    assertEquals(new SmartResize.Size(28, 5600), SmartResize.of(28, 5600, 28, MIN, MAX, 2));
  }

  /** Sizes drawn at random, expected values from the Python formula (spec/numpy/preprocess.py). */
  @ParameterizedTest(name = "{0}x{1} in [{2}, {3}] -> {4}x{5}")
  @CsvSource({
      "38, 380, 12544, 9633792, 28, 392", "399, 4, 3136, 1003520, 2800, 28",
      "1041, 38, 12544, 9633792, 1036, 28", "573, 1957, 12544, 200704, 168, 560",
      "36, 38, 12544, 200704, 84, 84", "7, 37, 12544, 200704, 56, 196",
      "2205, 2426, 12544, 200704, 280, 308", "1434, 19, 3136, 1003520, 2100, 28",
      "27, 60, 3136, 1003520, 28, 56", "2313, 5765, 12544, 200704, 196, 476",
      "5100, 2818, 3136, 1003520, 952, 504", "25, 2781, 12544, 9633792, 28, 3108",
      "269, 1042, 12544, 200704, 140, 616", "709, 1166, 3136, 1003520, 532, 896",
      "2921, 44, 12544, 9633792, 2912, 56", "3828, 7973, 12544, 9633792, 1512, 3164",
      "11341, 11106, 12544, 9633792, 2212, 2156", "2815, 26, 12544, 200704, 3024, 28",
      "41, 5, 12544, 9633792, 224, 28", "22, 2506, 12544, 9633792, 28, 3192"})
  void matchesPythonFormula(int h, int w, long min, long max, int eh, int ew) {
    assertEquals(new SmartResize.Size(eh, ew), SmartResize.of(h, w, 28, min, max, 2));
  }

  @ParameterizedTest(name = "fixture {0}x{1} -> grid {2}x{3}")
  @CsvSource({
      "64, 64, 6, 6", "300, 200, 14, 22", "180, 96, 6, 12", "40, 500, 36, 2",
      "1000, 700, 18, 26", "150, 150, 10, 10", "200, 100, 8, 14", "90, 120, 8, 6"})
  void fixtureGrids(int width, int height, int gridH, int gridW) {
    PreprocessorConfig config = PreprocessorConfig.load(
        Fixtures.tinyA().resolve("preprocessor_config.json"));
    assertEquals(new ImageGrid(1, gridH, gridW), new ImageProcessor(config).grid(width, height));
  }
}
