package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderTest {

  private static final int RED = 0xE01010;
  private static final int GREEN = 0x10E010;
  private static final int BLUE = 0x1010E0;
  private static final int WHITE = 0xF0F0F0;

  private final ImageDecoder decoder = new ImageDecoder();

  // ---- EXIF orientation -------------------------------------------------------------------

  /**
   * A 64x32 JPEG with four coloured quadrants (red top-left, green top-right, blue bottom-left,
   * white bottom-right) and an EXIF APP1 segment spliced in after SOI. Expected corners follow
   * the EXIF definition (e.g. 6 = stored rotated, display by turning 90 degrees clockwise).
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void jpegExifOrientationIsApplied(int orientation) {
    BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 64; x++) {
        img.setRGB(x, y, y < 16 ? (x < 32 ? RED : GREEN) : (x < 32 ? BLUE : WHITE));
      }
    }
    byte[] jpeg = spliceExif(TestImages.encode(img, "jpeg"), orientation, orientation % 2 == 0);
    RgbImage out = decoder.decode(jpeg);

    boolean swapped = orientation >= 5;
    assertEquals(swapped ? 32 : 64, out.width(), "width");
    assertEquals(swapped ? 64 : 32, out.height(), "height");
    // Displayed corners: top-left, top-right, bottom-left, bottom-right.
    int[] corners = switch (orientation) {
      case 1 -> new int[] {RED, GREEN, BLUE, WHITE};
      case 2 -> new int[] {GREEN, RED, WHITE, BLUE};
      case 3 -> new int[] {WHITE, BLUE, GREEN, RED};
      case 4 -> new int[] {BLUE, WHITE, RED, GREEN};
      case 5 -> new int[] {RED, BLUE, GREEN, WHITE};
      case 6 -> new int[] {BLUE, RED, WHITE, GREEN};
      case 7 -> new int[] {WHITE, GREEN, BLUE, RED};
      default -> new int[] {GREEN, WHITE, RED, BLUE};
    };
    int w = out.width();
    int h = out.height();
    int[][] probes = {{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}};
    for (int i = 0; i < 4; i++) {
      assertColour(corners[i], out, probes[i][0], probes[i][1], "orientation " + orientation
          + " corner " + i);
    }
  }

  private static void assertColour(int rgb, RgbImage img, int x, int y, String what) {
    for (int c = 0; c < 3; c++) {
      int expected = rgb >> (16 - 8 * c) & 0xFF;
      int actual = img.get(x, y, c);
      assertTrue(Math.abs(expected - actual) <= 24,
          what + ": channel " + c + " is " + actual + ", expected about " + expected);
    }
  }

  /** Inserts an APP1 Exif segment holding only IFD0 with the Orientation tag after SOI. */
  static byte[] spliceExif(byte[] jpeg, int orientation, boolean bigEndian) {
    ByteBuffer tiff = ByteBuffer.allocate(26)
        .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    tiff.put(bigEndian ? (byte) 'M' : (byte) 'I').put(bigEndian ? (byte) 'M' : (byte) 'I');
    tiff.putShort((short) 42).putInt(8); // magic, offset of IFD0
    tiff.putShort((short) 1); // one entry
    tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1); // Orientation, SHORT, count 1
    tiff.putShort((short) orientation).putShort((short) 0); // value, padding
    tiff.putInt(0); // no next IFD
    byte[] exif = new byte[6 + tiff.capacity()];
    System.arraycopy("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, exif, 0, 6);
    System.arraycopy(tiff.array(), 0, exif, 6, tiff.capacity());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, 2); // SOI
    int length = exif.length + 2;
    out.write(0xFF);
    out.write(0xE1);
    out.write(length >> 8);
    out.write(length & 0xFF);
    out.writeBytes(exif);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  @Test
  void garbledExifIsIgnoredNotFatal() {
    BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_3BYTE_BGR);
    byte[] jpeg = spliceExif(TestImages.encode(img, "jpeg"), 6, false);
    // Point IFD0 far outside the segment.
    jpeg[2 + 4 + 6 + 4] = (byte) 0xFF;
    RgbImage out = decoder.decode(jpeg);
    assertEquals(8, out.width());
  }

  // ---- colour conversion ---------------------------------------------------------------------

  @Test
  void pngAlphaIsCompositedOnWhiteLikePillow() {
    BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_INT_ARGB);
    img.setRGB(0, 0, 128 << 24 | 0 << 16 | 100 << 8 | 200);
    img.setRGB(1, 0, 0 << 24 | 10 << 16 | 20 << 8 | 30);
    img.setRGB(2, 0, 255 << 24 | 250 << 16);
    img.setRGB(3, 0, 64 << 24);
    RgbImage out = decoder.decode(TestImages.encode(img, "png"));
    // Values computed by Pillow 12.3: alpha_composite over white, then convert("RGB").
    assertArrayEquals(bytes(127, 177, 227, 255, 255, 255, 250, 0, 0, 191, 191, 191), out.rgb());
  }

  @Test
  void grayscalePngIsReplicatedWithoutGammaChange() {
    BufferedImage img = new BufferedImage(256, 1, BufferedImage.TYPE_BYTE_GRAY);
    for (int x = 0; x < 256; x++) {
      img.getRaster().setSample(x, 0, 0, x);
    }
    RgbImage out = decoder.decode(TestImages.encode(img, "png"));
    for (int x = 0; x < 256; x++) {
      for (int c = 0; c < 3; c++) {
        assertEquals(x, out.get(x, 0, c), "gray " + x + " channel " + c);
      }
    }
  }

  @Test
  void bmpRoundTrips() {
    RgbImage random = TestImages.random(7, 5, 3);
    BufferedImage img = new BufferedImage(7, 5, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 7; x++) {
        img.setRGB(x, y, random.get(x, y, 0) << 16 | random.get(x, y, 1) << 8 | random.get(x, y, 2));
      }
    }
    assertArrayEquals(random.rgb(), decoder.decode(TestImages.encode(img, "bmp")).rgb());
  }

  @Test
  void gifGivesTheFirstFrame() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      writer.writeToSequence(new IIOImage(solid(6, 4, RED), null, null), null);
      writer.writeToSequence(new IIOImage(solid(6, 4, BLUE), null, null), null);
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    RgbImage out = decoder.decode(bytes.toByteArray());
    assertEquals(6, out.width());
    assertEquals(4, out.height());
    assertColour(RED, out, 0, 0, "first frame");
    assertColour(RED, out, 5, 3, "first frame");
  }

  private static BufferedImage solid(int w, int h, int rgb) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    return img;
  }

  // ---- refusals ------------------------------------------------------------------------------

  @Test
  void truncatedPngIsBadImage() {
    byte[] png = TestImages.encode(noise(64, 64), "png");
    byte[] cut = Arrays.copyOf(png, png.length / 2);
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> decoder.decode(cut, "Image file 'cut.png'"));
    assertTrue(e.getMessage().contains("'cut.png'") && e.getMessage().contains("PNG"),
        e.getMessage());
  }

  @Test
  void truncatedJpegIsBadImage() {
    byte[] jpeg = TestImages.encode(noise(64, 64), "jpeg");
    byte[] cut = Arrays.copyOf(jpeg, jpeg.length / 2);
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> decoder.decode(cut));
    assertTrue(e.getMessage().contains("JPEG"), e.getMessage());
  }

  @Test
  void pngSignatureFollowedByGarbageIsBadImage() {
    byte[] data = new byte[200];
    new Random(5).nextBytes(data);
    System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}, 0, data, 0, 8);
    assertThrows(GlanceException.BadImage.class, () -> decoder.decode(data));
  }

  @Test
  void randomBytesAreRefusedNamingTheProblem() {
    byte[] data = new byte[1000];
    new Random(9).nextBytes(data);
    data[0] = 0x13; // make sure no signature matches by chance
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> decoder.decode(data));
    assertTrue(e.getMessage().contains("not a supported image"), e.getMessage());
    assertTrue(e.getMessage().startsWith("Image input"), e.getMessage());
  }

  @Test
  void textStartingWithBmIsNotTakenForBmp() {
    byte[] text = "BMW is a car maker, not a bitmap".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThrows(GlanceException.BadImage.class, () -> decoder.decode(text));
  }

  @Test
  void hugeDeclaredSizeIsRefusedBeforeDecoding() {
    byte[] png = pngWithHeader(100_000, 100_000);
    long t0 = System.nanoTime();
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> decoder.decode(png, "Image file 'bomb.png'"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().contains("100000x100000") && e.getMessage().contains("limit")
        && e.getMessage().contains("'bomb.png'"), e.getMessage());
    // Decoding 10^10 pixels would take minutes and tens of gigabytes; a header check is instant.
    assertTrue(ms < 2000, "took " + ms + " ms");
  }

  @Test
  void configurablePixelAndByteLimits() {
    byte[] png = TestImages.encode(noise(40, 30), "png");
    ImageDecoder strictPixels = new ImageDecoder(1000, 1 << 20);
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> strictPixels.decode(png));
    assertTrue(e.getMessage().contains("1200 pixels"), e.getMessage());
    ImageDecoder strictBytes = new ImageDecoder(1_000_000, 100);
    e = assertThrows(GlanceException.BadImage.class, () -> strictBytes.decode(png));
    assertTrue(e.getMessage().contains("over the limit of 100 bytes"), e.getMessage());
    assertEquals(40, new ImageDecoder(1200, 1 << 20).decode(png).width());
  }

  @Test
  void emptyFileIsBadImageNamingIt(@TempDir Path dir) throws IOException {
    Path file = Files.write(dir.resolve("empty.png"), new byte[0]);
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> decoder.decode(file));
    assertTrue(e.getMessage().contains("empty.png") && e.getMessage().contains("empty"),
        e.getMessage());
  }

  @Test
  void missingFileIsBadImageNamingIt(@TempDir Path dir) {
    Path file = dir.resolve("nope.jpg");
    GlanceException.BadImage e = assertThrows(GlanceException.BadImage.class,
        () -> decoder.decode(file));
    assertTrue(e.getMessage().contains("nope.jpg"), e.getMessage());
  }

  @Test
  void decodesAFileFromDisk(@TempDir Path dir) throws IOException {
    Path file = Files.write(dir.resolve("x.bin"), TestImages.encode(noise(5, 3), "png"));
    RgbImage out = decoder.decode(file);
    assertEquals(5, out.width());
    assertEquals(3, out.height());
  }

  private static BufferedImage noise(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(w * 31L + h);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    return img;
  }

  /** A PNG whose IHDR declares {@code w x h} RGB pixels, followed by a tiny IDAT and IEND. */
  private static byte[] pngWithHeader(int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    Deflater deflater = new Deflater();
    deflater.setInput(new byte[1000]);
    deflater.finish();
    byte[] idat = new byte[100];
    int n = deflater.deflate(idat);
    chunk(out, "IDAT", Arrays.copyOf(idat, n));
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
