package dev.glance.engine.image;

import java.nio.file.Path;

/** Locates the reference fixtures; a missing fixture fails the test rather than skipping it. */
final class Fixtures {

  private Fixtures() {}

  static Path tinyA() {
    return dev.glance.engine.Fixture.DIR;
  }
}
