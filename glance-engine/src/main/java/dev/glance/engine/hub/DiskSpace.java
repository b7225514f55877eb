package dev.glance.engine.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Free space where the cache lives, asked before a pull so a full disk fails before it starts. */
@FunctionalInterface
public interface DiskSpace {

  /** Bytes that may still be written in {@code dir}'s file system. */
  long usableBytes(Path dir) throws IOException;

  /** What the file system reports. */
  static DiskSpace fileStore() {
    return dir -> Files.getFileStore(dir).getUsableSpace();
  }
}
