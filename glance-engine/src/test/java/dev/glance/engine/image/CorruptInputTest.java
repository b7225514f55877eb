package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.glance.engine.GlanceException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damaged files of every format: the decoder may still produce an image (some damage is
 * harmless) but must never fail with anything other than {@link GlanceException.BadImage}.
 */
class CorruptInputTest {

  private static final String[] FILES = {
      "scene.jpg", "gray.jpg", "rgba.png", "palette_trns.png", "gray16.png", "two_frames.gif",
      "scene.bmp", "lossy.webp", "lossless.webp", "alpha.webp"};

  @ParameterizedTest
  @ValueSource(strings = {
      "scene.jpg", "gray.jpg", "rgba.png", "palette_trns.png", "gray16.png", "two_frames.gif",
      "scene.bmp", "lossy.webp", "lossless.webp", "alpha.webp"})
  void everyTruncationIsRefused(String file) {
    byte[] data = TestImages.resource("pillow/decode/" + file);
    ImageDecoder decoder = new ImageDecoder();
    // Like Pillow, a GIF cut inside its second frame still has a complete first frame, and a PNG
    // missing only IEND, the last CRC and the zlib checksum still has all its pixels.
    int stop = file.endsWith(".gif") ? data.length / 3
        : file.endsWith(".png") ? data.length - 24
        : data.length;
    for (int length = 0; length < stop; length += 1 + length / 16) {
      byte[] cut = Arrays.copyOf(data, length);
      assertThrows(GlanceException.BadImage.class, () -> decoder.decode(cut, file),
          file + " cut to " + cut.length + " bytes");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3})
  void randomDamageIsBadImageOrAnImage(int seed) {
    Random random = new Random(seed);
    ImageDecoder decoder = new ImageDecoder(4_000_000, 1 << 20);
    for (String file : FILES) {
      byte[] original = TestImages.resource("pillow/decode/" + file);
      for (int round = 0; round < 60; round++) {
        byte[] data = original.clone();
        int flips = 1 + random.nextInt(8);
        for (int i = 0; i < flips; i++) {
          // Headers are where decoders are fragile: aim half the damage at the first 64 bytes.
          int at = random.nextBoolean() ? random.nextInt(Math.min(64, data.length))
              : random.nextInt(data.length);
          data[at] = (byte) random.nextInt(256);
        }
        try {
          RgbImage image = decoder.decode(data, file);
          assertTrue(image.width() > 0 && image.height() > 0);
        } catch (GlanceException.BadImage expected) {
          assertTrue(expected.getMessage().startsWith(file), expected.getMessage());
        } catch (RuntimeException e) {
          fail(file + " round " + round + " seed " + seed + " threw " + e, e);
        }
      }
    }
  }
}
