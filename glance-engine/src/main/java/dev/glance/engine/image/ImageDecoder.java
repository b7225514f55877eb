package dev.glance.engine.image;

import dev.glance.engine.GlanceException;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/**
 * Turns encoded image bytes (PNG, JPEG, BMP, GIF, WebP) into an upright 8-bit {@link RgbImage},
 * matching what the Hugging Face reference feeds its processor: EXIF orientation applied, the
 * first GIF frame, transparency composited over white, gray/palette/16-bit reduced to 8-bit RGB
 * by Pillow's rules (see {@link PillowRgb}).
 *
 * <p>Inputs are untrusted. The format is sniffed from magic bytes, the byte size and the pixel
 * count declared in the header are checked before any pixel is decoded (a tiny file can claim
 * 100000x100000 pixels), and every decoding failure becomes a {@link GlanceException.BadImage}
 * saying what was wrong with which input. Instances are immutable and thread-safe.
 */
public final class ImageDecoder {

  /** Default limit on declared pixels: 50 megapixels, beyond any photo the model can use. */
  public static final long DEFAULT_MAX_INPUT_PIXELS = 50_000_000L;

  /** Default limit on encoded size: 64 MiB. */
  public static final long DEFAULT_MAX_INPUT_BYTES = 64L << 20;

  // 4 bytes per pixel must still fit a Java array when a reader builds its ARGB raster.
  private static final long HARD_PIXEL_CEILING = Integer.MAX_VALUE / 4;

  private final long maxInputPixels;
  private final long maxInputBytes;

  /** A decoder with the default limits. */
  public ImageDecoder() {
    this(DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_INPUT_BYTES);
  }

  /**
   * A decoder refusing images that declare more than {@code maxInputPixels} pixels or whose
   * encoded form is larger than {@code maxInputBytes}.
   */
  public ImageDecoder(long maxInputPixels, long maxInputBytes) {
    if (maxInputPixels <= 0 || maxInputPixels > HARD_PIXEL_CEILING) {
      throw new IllegalArgumentException("maxInputPixels must be in 1.." + HARD_PIXEL_CEILING
          + ", got " + maxInputPixels);
    }
    if (maxInputBytes <= 0 || maxInputBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("maxInputBytes must be in 1.." + (Integer.MAX_VALUE - 8)
          + ", got " + maxInputBytes);
    }
    this.maxInputPixels = maxInputPixels;
    this.maxInputBytes = maxInputBytes;
  }

  public long maxInputPixels() {
    return maxInputPixels;
  }

  public long maxInputBytes() {
    return maxInputBytes;
  }

  /** Decodes the image file at {@code file}; errors name the file. */
  public RgbImage decode(Path file) {
    String source = "Image file '" + file + "'";
    byte[] data;
    try {
      long size = Files.size(file);
      checkByteSize(size, source);
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new GlanceException.BadImage(source + " does not exist", e);
    } catch (IOException e) {
      throw new GlanceException.BadImage(source + " cannot be read: " + describe(e), e);
    }
    return decode(data, source);
  }

  /** Decodes encoded image bytes; errors call the input "Image input". */
  public RgbImage decode(byte[] data) {
    return decode(data, "Image input");
  }

  /**
   * Decodes encoded image bytes; {@code source} names the input in error messages and starts
   * them (e.g. "Image file 'cat.jpg'", "Image 2 of the request").
   */
  public RgbImage decode(byte[] data, String source) {
    checkByteSize(data.length, source);
    ImageFormat format = ImageFormat.sniff(data).orElseThrow(() -> new GlanceException.BadImage(
        source + " is not a supported image (PNG, JPEG, BMP, GIF or WebP): it starts with bytes "
            + HexFormat.ofDelimiter(" ").formatHex(data, 0, Math.min(8, data.length))));
    if (format == ImageFormat.WEBP) {
      checkRiffComplete(data, source);
    }
    RgbImage image = read(data, format, source);
    return ExifOrientation.apply(image, ExifOrientation.read(data, format));
  }

  /**
   * Reads the size {@code data} declares in its header, with the same byte and pixel limits and
   * errors as {@link #decode(byte[], String)}, without decoding any pixel.
   */
  public ImageHeader header(byte[] data, String source) {
    checkByteSize(data.length, source);
    ImageFormat format = ImageFormat.sniff(data).orElseThrow(() -> new GlanceException.BadImage(
        source + " is not a supported image (PNG, JPEG, BMP, GIF or WebP): it starts with bytes "
            + HexFormat.ofDelimiter(" ").formatHex(data, 0, Math.min(8, data.length))));
    ImageReader reader = readerFor(format, source);
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
      reader.setInput(in, true, true);
      int width = reader.getWidth(0);
      int height = reader.getHeight(0);
      checkPixels(width, height, format, source);
      return new ImageHeader(width, height);
    } catch (GlanceException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new GlanceException.BadImage(source + " is not a valid " + format
          + " image (unreadable header): " + describe(e), e);
    } finally {
      reader.dispose();
    }
  }

  private void checkByteSize(long size, String source) {
    if (size == 0) {
      throw new GlanceException.BadImage(source + " is empty (0 bytes)");
    }
    if (size > maxInputBytes) {
      throw new GlanceException.BadImage(source + " is " + size
          + " bytes, over the limit of " + maxInputBytes + " bytes");
    }
  }

  private void checkPixels(long width, long height, ImageFormat format, String source) {
    if (width <= 0 || height <= 0) {
      throw new GlanceException.BadImage(
          source + " declares an invalid size " + width + "x" + height + " in its " + format
              + " header");
    }
    if (width * height > maxInputPixels) {
      throw new GlanceException.BadImage(source + " is " + width + "x" + height + " ("
          + width * height + " pixels), over the limit of " + maxInputPixels + " pixels");
    }
  }

  private RgbImage read(byte[] data, ImageFormat format, String source) {
    ImageReader reader = readerFor(format, source);
    List<String> warnings = new ArrayList<>();
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
      // Metadata is only needed for the GIF canvas; skipping it elsewhere saves work.
      reader.setInput(in, true, format != ImageFormat.GIF);
      reader.addIIOReadWarningListener((r, message) -> warnings.add(message));
      // Header only: these calls parse the size fields without decoding any pixel data.
      checkPixels(reader.getWidth(0), reader.getHeight(0), format, source);
      GifCanvas canvas = format == ImageFormat.GIF ? GifCanvas.of(reader) : null;
      if (canvas != null) {
        checkPixels(canvas.width(), canvas.height(), format, source);
      }
      BufferedImage decoded = reader.read(0, rawSampleParam(reader));
      failOnTruncationWarning(warnings, format, source);
      RgbImage rgb = PillowRgb.convert(decoded);
      return canvas == null ? rgb : canvas.place(rgb, decoded);
    } catch (GlanceException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      // Readers signal corrupt input with IIOException, but also with EOFException,
      // IndexOutOfBounds, IllegalArgument, NegativeArraySize... all mean "bad image" here.
      throw new GlanceException.BadImage(source + " is not a valid " + format
          + " image (corrupt or truncated): " + describe(e), e);
    } finally {
      reader.dispose();
    }
  }

  /**
   * Pillow ignores embedded ICC profiles and hands the stored samples on; TwelveMonkeys' JPEG and
   * WebP readers instead convert an image with a non-sRGB profile to sRGB (moving values by up
   * to ~70 levels for a linear-RGB profile). Their image types include one in the embedded RGB
   * colour space, which keeps the stored samples, so ask for that one when it is offered.
   */
  private static ImageReadParam rawSampleParam(ImageReader reader) throws IOException {
    Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
    while (types != null && types.hasNext()) {
      ImageTypeSpecifier type = types.next();
      ColorModel cm = type.getColorModel();
      ColorSpace cs = cm.getColorSpace();
      if (cm instanceof ComponentColorModel && cs instanceof ICC_ColorSpace
          && cs.getType() == ColorSpace.TYPE_RGB && !cs.isCS_sRGB()
          && cm.getComponentSize(0) == 8 && !cm.isAlphaPremultiplied()) {
        ImageReadParam param = reader.getDefaultReadParam();
        param.setDestinationType(type);
        return param;
      }
    }
    return null;
  }

  /**
   * libjpeg (behind both the JDK and TwelveMonkeys JPEG readers) does not fail on a truncated
   * file: it warns and pads the picture with gray. Pillow refuses such a file ("image file is
   * truncated"), and a half-gray picture would silently mislead the model, so refuse it too.
   */
  private static void failOnTruncationWarning(List<String> warnings, ImageFormat format,
      String source) {
    for (String w : warnings) {
      String lower = w.toLowerCase(Locale.ROOT);
      // libjpeg: "Premature end of JPEG file"; TwelveMonkeys: "Truncated File - Missing EOI".
      if (lower.contains("premature end") || lower.contains("truncat")) {
        throw new GlanceException.BadImage(
            source + " is not a valid " + format + " image (truncated): " + w);
      }
    }
  }

  /**
   * TwelveMonkeys' lossless WebP decoder fills a cut-off stream with zeros instead of failing;
   * libwebp (Pillow) refuses it. The RIFF container states its own length and every chunk's, so
   * a truncated file is caught by walking the chunks before decoding.
   */
  private static void checkRiffComplete(byte[] d, String source) {
    long needed = u32le(d, 4) + 8; // libwebp's ParseRIFF refuses a RIFF size past the data
    long pos = 12;
    while (pos + 8 <= d.length) {
      long size = u32le(d, (int) pos + 4);
      needed = Math.max(needed, pos + 8 + size);
      pos += 8 + size + (size & 1);
    }
    if (needed > d.length) {
      throw new GlanceException.BadImage(source + " is not a valid WEBP image (truncated): it"
          + " declares " + needed + " bytes but has " + d.length);
    }
  }

  private static long u32le(byte[] d, int at) {
    return (d[at] & 0xFFL) | (d[at + 1] & 0xFFL) << 8 | (d[at + 2] & 0xFFL) << 16
        | (d[at + 3] & 0xFFL) << 24;
  }

  private static ImageReader readerFor(ImageFormat format, String source) {
    // TwelveMonkeys orders its JPEG reader ahead of the JDK's; PNG, BMP and GIF use the JDK's.
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName());
    if (!readers.hasNext()) {
      throw new GlanceException.Unsupported(source + " is " + format
          + ", but no " + format + " reader is installed");
    }
    return readers.next();
  }

  /** The messages of an exception and its causes, each prefixed by its type when terse. */
  private static String describe(Throwable e) {
    List<String> parts = new ArrayList<>();
    for (Throwable t = e; t != null && parts.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
      String msg = t.getMessage();
      // An I/O exception's message says what went wrong; a bare runtime exception from inside a
      // reader ("null", "8") needs its class name to mean anything.
      parts.add(t instanceof IOException && msg != null && !msg.isBlank()
          ? msg
          : t.getClass().getSimpleName() + (msg == null ? "" : " " + msg));
    }
    return String.join(": ", parts);
  }

  /**
   * The logical screen of a GIF and where its first frame sits on it. Pillow shows the first
   * frame on the full screen (grown to fit the frame if the header is too small), with the area
   * outside the frame painted in the transparent index if there is one, else palette index 0;
   * Java's reader returns only the frame rectangle.
   */
  private record GifCanvas(int width, int height, int left, int top, int fillIndex) {

    static GifCanvas of(ImageReader reader) throws IOException {
      IIOMetadata stream = reader.getStreamMetadata();
      IIOMetadata image = reader.getImageMetadata(0);
      if (stream == null || image == null) {
        return null;
      }
      Node screen = child(stream.getAsTree("javax_imageio_gif_stream_1.0"),
          "LogicalScreenDescriptor");
      Node imageTree = image.getAsTree("javax_imageio_gif_image_1.0");
      Node descriptor = child(imageTree, "ImageDescriptor");
      if (screen == null || descriptor == null) {
        return null;
      }
      int left = intAttr(descriptor, "imageLeftPosition", 0);
      int top = intAttr(descriptor, "imageTopPosition", 0);
      int frameW = intAttr(descriptor, "imageWidth", 0);
      int frameH = intAttr(descriptor, "imageHeight", 0);
      int width = Math.max(intAttr(screen, "logicalScreenWidth", 0), left + frameW);
      int height = Math.max(intAttr(screen, "logicalScreenHeight", 0), top + frameH);
      if (left == 0 && top == 0 && width == frameW && height == frameH) {
        return null; // the frame covers the canvas: nothing to place
      }
      Node control = child(imageTree, "GraphicControlExtension");
      int fill = 0;
      if (control != null && "TRUE".equalsIgnoreCase(attr(control, "transparentColorFlag"))) {
        fill = intAttr(control, "transparentColorIndex", 0);
      }
      return new GifCanvas(width, height, left, top, fill);
    }

    RgbImage place(RgbImage frame, BufferedImage decoded) {
      int argb = decoded.getColorModel() instanceof IndexColorModel icm
          && fillIndex < icm.getMapSize() ? icm.getRGB(fillIndex) : 0xFF000000;
      int a = argb >>> 24;
      byte r = (byte) PillowRgb.overWhite(argb >>> 16 & 0xFF, a);
      byte g = (byte) PillowRgb.overWhite(argb >>> 8 & 0xFF, a);
      byte b = (byte) PillowRgb.overWhite(argb & 0xFF, a);
      byte[] out = new byte[width * height * 3];
      for (int i = 0; i < out.length; i += 3) {
        out[i] = r;
        out[i + 1] = g;
        out[i + 2] = b;
      }
      for (int y = 0; y < frame.height(); y++) {
        System.arraycopy(frame.rgb(), y * frame.width() * 3, out,
            ((top + y) * width + left) * 3, frame.width() * 3);
      }
      return new RgbImage(width, height, out);
    }

    private static Node child(Node parent, String name) {
      for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
        if (name.equals(n.getNodeName())) {
          return n;
        }
      }
      return null;
    }

    private static String attr(Node node, String name) {
      NamedNodeMap attrs = node.getAttributes();
      Node a = attrs == null ? null : attrs.getNamedItem(name);
      return a == null ? null : a.getNodeValue();
    }

    private static int intAttr(Node node, String name, int fallback) {
      String v = attr(node, name);
      try {
        return v == null ? fallback : Integer.parseInt(v);
      } catch (NumberFormatException e) {
        return fallback;
      }
    }
  }
}
