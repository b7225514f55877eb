package dev.glance.engine.image;

/**
 * Finds the EXIF Orientation tag (0x0112) in an encoded image and applies it, like Pillow's
 * {@code ImageOps.exif_transpose}, which Hugging Face's {@code load_image} calls on every image:
 * a phone photo stored sideways must reach the model upright.
 *
 * <p>The EXIF block is located the way Pillow locates it: the first {@code Exif\0\0} APP1 segment
 * of a JPEG, the {@code eXIf} chunk of a PNG, the {@code EXIF} chunk of a WebP. Only IFD0 is
 * read. Malformed or absent EXIF data means "no rotation", never an error: the pixels are still
 * usable, as they are for Pillow.
 */
final class ExifOrientation {

  private static final int ORIENTATION_TAG = 0x0112;

  private ExifOrientation() {}

  /** The orientation (1..8) recorded in {@code data}; 1 when there is none or it is invalid. */
  static int read(byte[] data, ImageFormat format) {
    try {
      int value = switch (format) {
        case JPEG -> fromJpeg(data);
        case PNG -> fromPng(data);
        case WEBP -> fromWebp(data);
        case BMP, GIF -> 1;
      };
      return value >= 1 && value <= 8 ? value : 1;
    } catch (IndexOutOfBoundsException e) {
      // A segment length pointing past the end: treat like Pillow treats unreadable EXIF.
      return 1;
    }
  }

  /**
   * The image as it should be displayed for {@code orientation}. Pillow's mapping: 2 mirror
   * left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90 clockwise,
   * 7 transverse, 8 rotate 90 counter-clockwise.
   */
  static RgbImage apply(RgbImage in, int orientation) {
    if (orientation <= 1 || orientation > 8) {
      return in;
    }
    int w = in.width();
    int h = in.height();
    // Each orientation is an affine walk over source pixel indices: output pixel (x, y) reads
    // source index base + x * dx + y * dy. Orientations 5..8 swap the output width and height.
    int base;
    int dx;
    int dy;
    switch (orientation) {
      case 2 -> { base = w - 1; dx = -1; dy = w; }
      case 3 -> { base = (h - 1) * w + w - 1; dx = -1; dy = -w; }
      case 4 -> { base = (h - 1) * w; dx = 1; dy = -w; }
      case 5 -> { base = 0; dx = w; dy = 1; }
      case 6 -> { base = (h - 1) * w; dx = -w; dy = 1; }
      case 7 -> { base = (h - 1) * w + w - 1; dx = -w; dy = -1; }
      default -> { base = w - 1; dx = w; dy = -1; } // 8
    }
    boolean swap = orientation >= 5;
    int outW = swap ? h : w;
    int outH = swap ? w : h;
    byte[] src = in.rgb();
    byte[] out = new byte[src.length];
    int o = 0;
    for (int y = 0; y < outH; y++) {
      int s = base + y * dy;
      for (int x = 0; x < outW; x++, s += dx) {
        int si = s * 3;
        out[o++] = src[si];
        out[o++] = src[si + 1];
        out[o++] = src[si + 2];
      }
    }
    return new RgbImage(outW, outH, out);
  }

  private static int fromJpeg(byte[] d) {
    int pos = 2; // after SOI
    while (pos + 4 <= d.length) {
      if ((d[pos] & 0xFF) != 0xFF) {
        return 1; // not at a marker: the segment structure is broken
      }
      int marker = d[pos + 1] & 0xFF;
      if (marker == 0xFF) { // fill byte
        pos++;
        continue;
      }
      if (marker == 0xDA || marker == 0xD9) { // start of scan / end of image: no more headers
        return 1;
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { // markers without a length
        pos += 2;
        continue;
      }
      int length = u16(d, pos + 2, true);
      int body = pos + 4;
      if (marker == 0xE1 && length >= 8 && isExifHeader(d, body)) {
        return fromTiff(d, body + 6, Math.min(d.length, pos + 2 + length));
      }
      pos += 2 + length;
    }
    return 1;
  }

  private static int fromPng(byte[] d) {
    int pos = 8; // after the signature
    while (pos + 12 <= d.length) {
      long length = u32(d, pos, true);
      if (length > d.length - pos - 12L) {
        return 1;
      }
      int body = pos + 8;
      int end = body + (int) length;
      if (d[pos + 4] == 'e' && d[pos + 5] == 'X' && d[pos + 6] == 'I' && d[pos + 7] == 'f') {
        return isExifHeader(d, body) ? fromTiff(d, body + 6, end) : fromTiff(d, body, end);
      }
      if (d[pos + 4] == 'I' && d[pos + 5] == 'E' && d[pos + 6] == 'N' && d[pos + 7] == 'D') {
        return 1;
      }
      pos = end + 4; // skip the CRC
    }
    return 1;
  }

  private static int fromWebp(byte[] d) {
    int pos = 12; // after "RIFF", size, "WEBP"
    while (pos + 8 <= d.length) {
      long length = u32(d, pos + 4, false);
      if (length > d.length - pos - 8L) {
        return 1;
      }
      int body = pos + 8;
      int end = body + (int) length;
      if (d[pos] == 'E' && d[pos + 1] == 'X' && d[pos + 2] == 'I' && d[pos + 3] == 'F') {
        return isExifHeader(d, body) ? fromTiff(d, body + 6, end) : fromTiff(d, body, end);
      }
      pos = end + (int) (length & 1); // chunks are padded to an even size
    }
    return 1;
  }

  /** Reads the Orientation entry of IFD0 from a TIFF structure at {@code [start, end)}. */
  private static int fromTiff(byte[] d, int start, int end) {
    if (end - start < 8) {
      return 1;
    }
    boolean bigEndian;
    if (d[start] == 'M' && d[start + 1] == 'M') {
      bigEndian = true;
    } else if (d[start] == 'I' && d[start + 1] == 'I') {
      bigEndian = false;
    } else {
      return 1;
    }
    if (u16(d, start + 2, bigEndian) != 42) {
      return 1;
    }
    long ifd = u32(d, start + 4, bigEndian);
    if (ifd < 8 || ifd + 2 > end - start) {
      return 1;
    }
    int entries = u16(d, start + (int) ifd, bigEndian);
    for (int i = 0; i < entries; i++) {
      int e = start + (int) ifd + 2 + i * 12;
      if (e + 12 > end) {
        return 1;
      }
      if (u16(d, e, bigEndian) == ORIENTATION_TAG) {
        int type = u16(d, e + 2, bigEndian);
        if (type == 3) { // SHORT: the value sits in the first two bytes of the value field
          return u16(d, e + 8, bigEndian);
        }
        if (type == 4) { // LONG: written by a few tools; Pillow reads it just the same
          return (int) Math.min(u32(d, e + 8, bigEndian), Integer.MAX_VALUE);
        }
        return 1;
      }
    }
    return 1;
  }

  private static boolean isExifHeader(byte[] d, int at) {
    return at + 6 <= d.length && d[at] == 'E' && d[at + 1] == 'x' && d[at + 2] == 'i'
        && d[at + 3] == 'f' && d[at + 4] == 0 && d[at + 5] == 0;
  }

  private static int u16(byte[] d, int at, boolean bigEndian) {
    int a = d[at] & 0xFF;
    int b = d[at + 1] & 0xFF;
    return bigEndian ? a << 8 | b : b << 8 | a;
  }

  private static long u32(byte[] d, int at, boolean bigEndian) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
      int b = d[bigEndian ? at + i : at + 3 - i] & 0xFF;
      v = v << 8 | b;
    }
    return v;
  }
}
