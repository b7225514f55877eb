package dev.glance.server.api;

import dev.glance.engine.image.ImageDecoder;
import dev.glance.engine.image.ImageHeader;
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

  /** An image's encoded bytes and the size its header declares, not yet decoded. */
  public record Fetched(String param, byte[] data, ImageHeader header) {}

  public List<LoadedImage> load(List<ImageRef> refs) throws InterruptedException {
    return decode(fetch(refs));
  }

  /**
   * Fetches or unpacks each image and reads its header, so that what the images will cost can be
   * judged before any of them is decoded.
   */
  public List<Fetched> fetch(List<ImageRef> refs) {
    List<Fetched> out = new ArrayList<>(refs.size());
    for (ImageRef ref : refs) {
      byte[] data = switch (ref) {
        case ImageRef.Inline in -> base64(in);
        case ImageRef.Remote r -> fetch(r);
      };
      if (data.length == 0) {
        throw new ApiError.InvalidRequest(ref.param() + " is empty", ref.param(), "invalid_image");
      }
      out.add(new Fetched(ref.param(), data, decoder.header(data, ref.param())));
    }
    return out;
  }

  public List<LoadedImage> decode(List<Fetched> fetched) throws InterruptedException {
    List<LoadedImage> out = new ArrayList<>(fetched.size());
    for (Fetched f : fetched) {
      out.add(decode(f));
    }
    return out;
  }

  public LoadedImage load(ImageRef ref) throws InterruptedException {
    return decode(fetch(List.of(ref)).getFirst());
  }

  private LoadedImage decode(Fetched f) throws InterruptedException {
    decoding.acquire();
    try {
      var image = decoder.decode(f.data(), f.param());
      String format = ImageFormat.sniff(f.data()).map(x -> x.name().toLowerCase(Locale.ROOT)).orElse("unknown");
      return new LoadedImage(f.param(), image, format, f.data().length, sha256(f.data()));
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
