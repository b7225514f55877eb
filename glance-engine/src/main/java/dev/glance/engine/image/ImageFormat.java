package dev.glance.engine.image;

import java.util.Optional;

/**
 * The container formats the decoder accepts, recognised by their leading magic bytes rather than
 * by file name, so a mislabelled upload is still read correctly and anything else is refused
 * before an image reader ever sees it.
 */
public enum ImageFormat {
  PNG("png"),
  JPEG("jpeg"),
  BMP("bmp"),
  GIF("gif"),
  WEBP("webp");

  private final String imageIoName;

  ImageFormat(String imageIoName) {
    this.imageIoName = imageIoName;
  }

  /** The format name ImageIO registers readers under. */
  String imageIoName() {
    return imageIoName;
  }

  /** The format whose signature {@code data} starts with, or empty when none matches. */
  public static Optional<ImageFormat> sniff(byte[] data) {
    if (startsWith(data, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return Optional.of(PNG);
    }
    if (startsWith(data, 0, 0xFF, 0xD8, 0xFF)) {
      return Optional.of(JPEG);
    }
    if (startsWith(data, 0, 'G', 'I', 'F', '8') && data.length >= 6
        && (data[4] == '7' || data[4] == '9') && data[5] == 'a') {
      return Optional.of(GIF);
    }
    if (startsWith(data, 0, 'R', 'I', 'F', 'F') && startsWith(data, 8, 'W', 'E', 'B', 'P')) {
      return Optional.of(WEBP);
    }
    // "BM" alone is too weak (plain text can start with it): also require the 14-byte file
    // header plus a DIB header whose size field is one of the sizes BMP versions define.
    if (startsWith(data, 0, 'B', 'M') && data.length >= 18) {
      int dibSize = (data[14] & 0xFF) | (data[15] & 0xFF) << 8 | (data[16] & 0xFF) << 16
          | (data[17] & 0xFF) << 24;
      if (dibSize == 12 || dibSize == 16 || dibSize == 40 || dibSize == 52 || dibSize == 56
          || dibSize == 64 || dibSize == 108 || dibSize == 124) {
        return Optional.of(BMP);
      }
    }
    return Optional.empty();
  }

  private static boolean startsWith(byte[] data, int offset, int... magic) {
    if (data.length < offset + magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((data[offset + i] & 0xFF) != magic[i]) {
        return false;
      }
    }
    return true;
  }
}
