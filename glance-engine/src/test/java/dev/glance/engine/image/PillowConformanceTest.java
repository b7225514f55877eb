package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decoder against what transformers would see for the same file: Pillow 12.3 open, {@code
 * ImageOps.exif_transpose}, {@code convert_to_rgb} (see pillow/make_pillow_refs.py). Lossless
 * inputs must match exactly. Lossy decoders are allowed the small differences between libjpeg
 * implementations (the JDK's libjpeg 6b vs Pillow's libjpeg-turbo; none seen so far). Lossy
 * WebP is a known deviation: TwelveMonkeys' VP8 decoder replicates chroma instead of libwebp's
 * "fancy" interpolating upsampling, which moves colour edges by up to ~100 levels; only its mean
 * difference is bounded.
 */
class PillowConformanceTest {

  @ParameterizedTest(name = "{0}: max {1}, mean {2}")
  @CsvSource({
      "rgba.png, 0, 0", "la.png, 0, 0", "palette_trns.png, 0, 0", "gray16.png, 0, 0",
      "rgb16.png, 0, 0", "gray4.png, 0, 0", "two_frames.gif, 0, 0", "scene.bmp, 0, 0",
      "lossless.webp, 0, 0", "alpha.webp, 0, 0", "orient6.png, 0, 0", "orient6.webp, 0, 0",
      "offset_frame.gif, 0, 0", "offset_frame_trns.gif, 0, 0", "icc_linear.png, 0, 0",
      "icc_linear.webp, 0, 0", "icc_linear.jpg, 1, 0.1",
      "scene.jpg, 1, 0.1", "scene444.jpg, 1, 0.1", "gray.jpg, 1, 0.1",
      "orient1.jpg, 1, 0.1", "orient2.jpg, 1, 0.1", "orient3.jpg, 1, 0.1", "orient4.jpg, 1, 0.1",
      "orient5.jpg, 1, 0.1", "orient6.jpg, 1, 0.1", "orient7.jpg, 1, 0.1", "orient8.jpg, 1, 0.1",
      "lossy.webp, 255, 6"})
  void decodesLikePillow(String file, int maxTolerance, double meanTolerance) {
    RgbImage expected = TestImages.readPlainRgbPng(
        TestImages.resource("pillow/decode/" + file + ".expected.png"));
    RgbImage actual = new ImageDecoder().decode(TestImages.resource("pillow/decode/" + file), file);
    assertEquals(expected.width(), actual.width(), file + " width");
    assertEquals(expected.height(), actual.height(), file + " height");
    int max = TestImages.maxDiff(expected, actual);
    double mean = TestImages.meanDiff(expected, actual);
    System.out.printf("decode %s: difference to Pillow max %d, mean %.3f%n", file, max, mean);
    assertTrue(max <= maxTolerance, file + ": max difference to Pillow " + max);
    assertTrue(mean <= meanTolerance, file + ": mean difference to Pillow " + mean);
  }
}
