package dev.glance.engine.image;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the reference fixtures; a missing fixture fails the test rather than skipping it. */
final class Fixtures {

  private Fixtures() {}

  static Path tinyA() {
    String root = System.getProperty("glance.fixtures");
    assertNotNull(root, "system property glance.fixtures is not set (surefire sets it)");
    Path dir = Path.of(root, "glm4v-tiny-a");
    assertTrue(Files.isDirectory(dir), "fixture directory missing: " + dir);
    return dir;
  }
}
