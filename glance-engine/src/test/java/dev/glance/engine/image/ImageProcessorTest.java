package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.glance.engine.GlanceException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImageProcessorTest {

  /**
   * Small odd settings (patch 2, merge 2, three frames) with rescale and normalise off, so every
   * value is a raw pixel and the position of each can be checked against the definition: row =
   * (block row, block column, row in block, column in block), column = (channel, frame, y, x).
   */
  @Test
  void patchOrderFollowsTheDefinition() {
    PreprocessorConfig config = new PreprocessorConfig(2, 3, 2, 16, 100_000,
        PreprocessorConfig.CLIP_MEAN, PreprocessorConfig.CLIP_STD, 1 / 255.0,
        true, false, false, true);
    int width = 12;
    int height = 8; // multiples of factor 4: no resize
    RgbImage image = TestImages.random(width, height, 11);
    PixelValues pv = new ImageProcessor(config).process(image);

    int p = 2;
    int m = 2;
    int frames = 3;
    int gh = height / p;
    int gw = width / p;
    assertEquals(List.of(new ImageGrid(1, gh, gw)), pv.grids());
    assertEquals(gh * gw, pv.patches());
    assertEquals(3 * frames * p * p, pv.rowWidth());
    for (int row = 0; row < pv.patches(); row++) {
      // row = ((bh * (gw / m) + bw) * m + mh) * m + mw
      int mw = row % m;
      int mh = row / m % m;
      int bw = row / (m * m) % (gw / m);
      int bh = row / (m * m) / (gw / m);
      for (int col = 0; col < pv.rowWidth(); col++) {
        // col = ((c * frames + t) * p + py) * p + px
        int px = col % p;
        int py = col / p % p;
        int c = col / (p * p * frames);
        int y = (bh * m + mh) * p + py;
        int x = (bw * m + mw) * p + px;
        assertEquals(image.get(x, y, c), pv.get(row, col), 0f,
            "row " + row + " col " + col);
      }
    }
  }

  @Test
  void normalisesWithClipMeanAndStd() {
    PreprocessorConfig config = PreprocessorConfig.defaults();
    byte[] rgb = new byte[28 * 56 * 3];
    for (int i = 0; i < rgb.length; i += 3) {
      rgb[i] = (byte) 0;
      rgb[i + 1] = (byte) 128;
      rgb[i + 2] = (byte) 255;
    }
    // 28x56 is below min_pixels, so it is upscaled; a constant image stays constant.
    PixelValues pv = new ImageProcessor(config).process(new RgbImage(56, 28, rgb));
    int plane = 2 * 14 * 14;
    for (int c = 0; c < 3; c++) {
      int v = c == 0 ? 0 : c == 1 ? 128 : 255;
      double expected = (v / 255.0 - config.imageMean().get(c)) / config.imageStd().get(c);
      for (int row = 0; row < pv.patches(); row++) {
        assertEquals(expected, pv.get(row, c * plane), 1e-5);
        assertEquals(expected, pv.get(row, c * plane + plane - 1), 1e-5);
      }
    }
  }

  @Test
  void imagesAreConcatenatedInOrder() {
    ImageProcessor processor = new ImageProcessor(PreprocessorConfig.defaults());
    RgbImage a = TestImages.random(120, 90, 1);
    RgbImage b = TestImages.random(60, 200, 2);
    PixelValues both = processor.process(List.of(a, b));
    PixelValues first = processor.process(a);
    PixelValues second = processor.process(b);
    assertEquals(List.of(first.grids().get(0), second.grids().get(0)), both.grids());
    assertEquals(first.patches() + second.patches(), both.patches());
    for (int i = 0; i < first.values().length; i++) {
      assertEquals(first.values()[i], both.values()[i]);
    }
    for (int i = 0; i < second.values().length; i++) {
      assertEquals(second.values()[i], both.values()[first.values().length + i]);
    }
  }

  @Test
  void unresizedImagesMustFitThePatchGrid() {
    PreprocessorConfig config = new PreprocessorConfig(14, 2, 2, 12544, 9633792,
        PreprocessorConfig.CLIP_MEAN, PreprocessorConfig.CLIP_STD, 1 / 255.0,
        false, true, true, true);
    ImageProcessor processor = new ImageProcessor(config);
    assertEquals(new ImageGrid(1, 4, 6), processor.grid(84, 56));
    assertThrows(GlanceException.BadImage.class, () -> processor.grid(85, 56));
  }
}
