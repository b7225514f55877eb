package dev.glance.engine.hub;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A progress bar on one line of a terminal, redrawn in place with a carriage return at most ten
 * times a second: bytes done and planned, percent, rate and time left. Other messages are printed
 * above it.
 */
final class ProgressBar implements DownloadProgress {
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int BAR = 24;

  private final PrintWriter out;
  private final LongSupplier clock;
  private final Tally tally;
  private String label = "";
  private long lastDraw = Long.MIN_VALUE;
  private int lastWidth;

  ProgressBar(PrintWriter out, LongSupplier clock) {
    this.out = out;
    this.clock = clock;
    this.tally = new Tally(clock);
  }

  @Override
  public synchronized void resolved(HubRepo repo, String commit) {
    label = repo.id();
    out.println("pulling " + repo + " (commit " + abbreviate(commit) + ")");
    out.flush();
  }

  @Override
  public synchronized void planned(int files, long totalBytes, long presentBytes) {
    tally.plan(totalBytes, presentBytes);
    line(Tally.describePlan(files, totalBytes, presentBytes));
  }

  @Override
  public void fileStarted(String path, long size) {}

  @Override
  public void transferred(long bytes) {
    tally.add(bytes);
    synchronized (this) {
      if (tally.total() > 0) {
        draw(false);
      }
    }
  }

  @Override
  public synchronized void fileDone(String path, long size) {
    if (tally.total() > 0) {
      draw(true);
    }
  }

  @Override
  public synchronized void retrying(String path, int failures, Duration wait, String reason) {
    line(path + ": " + reason + "; retrying in " + Units.duration(wait) + " (try " + (failures + 1) + ")");
  }

  @Override
  public synchronized void note(String message) {
    line(message);
  }

  @Override
  public synchronized void finished(PulledModel model) {
    draw(true);
    out.println();
    out.println("pulled " + model.repo() + " (" + Units.bytes(model.totalBytes()) + ", "
        + Units.bytes(model.downloadedBytes()) + " downloaded in " + Units.duration(model.elapsed()) + ")");
    out.flush();
    lastWidth = 0;
  }

  /** Prints a message on its own line and redraws the bar under it. */
  private void line(String message) {
    clear();
    out.println(message);
    lastWidth = 0;
    draw(true);
  }

  private void draw(boolean force) {
    long now = clock.getAsLong();
    if (!force && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    int filled = tally.percent() * BAR / 100;
    String text = label + " [" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] " + tally.summary();
    out.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
    out.flush();
    lastWidth = text.length();
  }

  private void clear() {
    if (lastWidth > 0) {
      out.print("\r" + " ".repeat(lastWidth) + "\r");
    }
  }

  static String abbreviate(String commit) {
    return commit.length() > 10 ? commit.substring(0, 10) : commit;
  }
}
