package dev.glance.engine.runtime;

import java.nio.file.Path;

/** An image supplied with a request: a file (CLI) or bytes (HTTP); errors name its source. */
public sealed interface ImageInput {
  String source();

  record FromFile(Path path) implements ImageInput {
    @Override
    public String source() {
      return path.toString();
    }
  }

  record FromBytes(String source, byte[] data) implements ImageInput {}
}
