package dev.glance.engine.runtime;

import dev.glance.engine.image.RgbImage;
import java.nio.file.Path;

/**
 * An image supplied with a request: a file (CLI), bytes, or an image the caller already decoded
 * (the HTTP server decodes on the request's own thread, so that a bad image is refused before the
 * request is queued); errors name its source.
 */
public sealed interface ImageInput {
  String source();

  record FromFile(Path path) implements ImageInput {
    @Override
    public String source() {
      return path.toString();
    }
  }

  record FromBytes(String source, byte[] data) implements ImageInput {}

  record Decoded(String source, RgbImage image) implements ImageInput {}
}
