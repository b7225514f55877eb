package dev.glance.server.api;

import dev.glance.engine.image.ImageDecoder;
import dev.glance.engine.image.ImageFormat;
import dev.glance.server.fetch.FetchException;
import dev.glance.server.fetch.ImageFetcher;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;

/**
 * Turns {@link ImageRef}s into decoded images on the request's own thread, each step refusing
 * what is too big before paying for it: the base64 text's length is checked before it is decoded,
 * the encoded size and the pixel count declared in the header before any pixel is decoded. At
 * most one decode per CPU runs at once, so a burst of large images cannot exhaust the heap.
 */
public final class ImageLoader {
  private final ImageDecoder decoder;
  private final ImageFetcher fetcher;
  private final long maxBytes;
  private final Semaphore decoding = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()));

  public ImageLoader(ImageDecoder decoder, ImageFetcher fetcher) {
    this.decoder = decoder;
    this.fetcher = fetcher;
    this.maxBytes = decoder.maxInputBytes();
  }

  public List<LoadedImage> load(List<ImageRef> refs) throws InterruptedException {
    List<LoadedImage> out = new ArrayList<>(refs.size());
    for (ImageRef ref : refs) {
      out.add(load(ref));
    }
    return out;
  }

  public LoadedImage load(ImageRef ref) throws InterruptedException {
    byte[] data = switch (ref) {
      case ImageRef.Inline in -> base64(in);
      case ImageRef.Remote r -> fetch(r);
    };
    if (data.length == 0) {
      throw new ApiError.InvalidRequest(ref.param() + " is empty", ref.param(), "invalid_image");
    }
    decoding.acquire();
    try {
      var image = decoder.decode(data, ref.param());
      String format = ImageFormat.sniff(data).map(f -> f.name().toLowerCase(Locale.ROOT)).orElse("unknown");
      return new LoadedImage(ref.param(), image, format, data.length, sha256(data));
    } finally {
      decoding.release();
    }
  }

  private byte[] fetch(ImageRef.Remote r) {
    try {
      return fetcher.fetch(r.url());
    } catch (FetchException e) {
      throw new ApiError.InvalidRequest(r.param() + ": " + e.getMessage(), r.param(),
          e.tooLarge() ? "image_too_large" : "invalid_image_url");
    }
  }

  private byte[] base64(ImageRef.Inline in) {
    String text = in.data();
    String param = in.param();
    if (text.regionMatches(true, 0, "data:", 0, 5)) {
      int comma = text.indexOf(',');
      if (comma < 0) {
        throw new ApiError.InvalidRequest(param + " is a data URL without a comma before its data", param,
            "invalid_image");
      }
      String header = text.substring(5, comma).toLowerCase(Locale.ROOT);
      if (!header.endsWith(";base64")) {
        throw new ApiError.InvalidRequest(param + ": only base64 data URLs are supported"
            + " (data:image/png;base64,...)", param, "invalid_image");
      }
      text = text.substring(comma + 1);
    }
    // Checked on the text before decoding: base64 holds 3 bytes per 4 characters.
    long estimate = (long) text.length() / 4 * 3;
    if (estimate > maxBytes + 3) {
      throw new ApiError.InvalidRequest(param + " is about " + estimate + " bytes, over the server's limit of "
          + maxBytes + " bytes per image (--max-image-bytes)", param, "image_too_large");
    }
    String compact = stripWhitespace(text);
    boolean urlSafe = compact.indexOf('-') >= 0 || compact.indexOf('_') >= 0;
    try {
      return (urlSafe ? Base64.getUrlDecoder() : Base64.getDecoder()).decode(compact);
    } catch (IllegalArgumentException e) {
      throw new ApiError.InvalidRequest(param + " is not valid base64: " + e.getMessage(), param,
          "invalid_base64");
    }
  }

  private static String stripWhitespace(String s) {
    int i = 0;
    while (i < s.length() && !Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    if (i == s.length()) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int j = 0; j < s.length(); j++) {
      char c = s.charAt(j);
      if (!Character.isWhitespace(c)) {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
