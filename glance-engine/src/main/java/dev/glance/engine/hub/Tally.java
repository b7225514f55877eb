package dev.glance.engine.hub;

import java.time.Duration;
import java.util.function.LongSupplier;

/** Bytes done out of planned, the current rate and time left: what both progress views show. */
final class Tally {
  private final LongSupplier clock;
  private final RateMeter meter;
  private long total;
  private long done;
  private long startNanos;

  Tally(LongSupplier clock) {
    this.clock = clock;
    this.meter = new RateMeter(clock);
    this.startNanos = clock.getAsLong();
  }

  synchronized void plan(long totalBytes, long presentBytes) {
    total = totalBytes;
    done = presentBytes;
    startNanos = clock.getAsLong();
    meter.record(done);
  }

  synchronized void add(long bytes) {
    done += bytes;
    meter.record(done);
  }

  synchronized long done() {
    return done;
  }

  synchronized long total() {
    return total;
  }

  synchronized double rate() {
    return meter.bytesPerSecond();
  }

  synchronized Duration elapsed() {
    return Duration.ofNanos(clock.getAsLong() - startNanos);
  }

  /** "9.1 GB / 20.2 GB  45%  38.5 MB/s  4m50s left" (parts unknown so far are left out). */
  synchronized String summary() {
    StringBuilder s = new StringBuilder(Units.bytes(done));
    if (total > 0) {
      s.append(" / ").append(Units.bytes(total)).append(String.format("  %3d%%", percent()));
    }
    double r = meter.bytesPerSecond();
    if (r > 0) {
      s.append("  ").append(Units.bytes(r)).append("/s");
      if (total > done) {
        s.append("  ").append(Units.duration(Duration.ofSeconds((long) ((total - done) / r)))).append(" left");
      }
    }
    return s.toString();
  }

  /** "12 files, 20.1 GB, 1.0 GB already here". */
  static String describePlan(int files, long totalBytes, long presentBytes) {
    String s = files + " files, " + Units.bytes(totalBytes);
    if (presentBytes >= totalBytes) {
      return s + ", all already here";
    }
    return presentBytes > 0 ? s + ", " + Units.bytes(presentBytes) + " already here" : s;
  }

  synchronized int percent() {
    return total <= 0 ? 0 : (int) Math.min(100, done * 100 / total);
  }
}
