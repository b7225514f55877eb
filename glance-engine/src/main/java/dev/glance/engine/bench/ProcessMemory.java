package dev.glance.engine.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory from /proc/self/status: VmRSS (now) and VmHWM (peak), in
 * bytes; -1 where the file does not exist (not Linux).
 */
public record ProcessMemory(long rss, long peak) {
  public static ProcessMemory now() {
    long rss = -1;
    long peak = -1;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = kib(line);
        } else if (line.startsWith("VmHWM:")) {
          peak = kib(line);
        }
      }
    } catch (IOException e) {
      return new ProcessMemory(-1, -1);
    }
    return new ProcessMemory(rss, peak);
  }

  /** MemAvailable from /proc/meminfo in bytes; -1 where unknown. */
  public static long available() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return kib(line);
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  private static long kib(String line) {
    String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
    return Long.parseLong(parts[0]) * 1024;
  }
}
