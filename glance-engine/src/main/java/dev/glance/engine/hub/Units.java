package dev.glance.engine.hub;

import java.time.Duration;
import java.util.Locale;

/** Byte counts and durations as people read them: "1.5 GB", "38.2 MB/s", "4m50s". */
final class Units {
  private static final String[] BYTE_UNITS = {"B", "kB", "MB", "GB", "TB"};

  private Units() {}

  /** Decimal units, as download tools and disk vendors count. */
  static String bytes(double n) {
    int u = 0;
    while (Math.abs(n) >= 1000 && u < BYTE_UNITS.length - 1) {
      n /= 1000;
      u++;
    }
    return u == 0 ? String.format(Locale.ROOT, "%d B", (long) n)
        : String.format(Locale.ROOT, "%.1f %s", n, BYTE_UNITS[u]);
  }

  static String duration(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
  }
}
