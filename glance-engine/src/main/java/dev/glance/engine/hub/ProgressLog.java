package dev.glance.engine.hub;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Progress as plain lines, for logs and pipes where a redrawn bar would be noise: one line per
 * file started and finished, and a summary line every ten seconds while bytes flow.
 */
final class ProgressLog implements DownloadProgress {
  private static final long SUMMARY_NANOS = 10_000_000_000L;

  private final PrintWriter out;
  private final LongSupplier clock;
  private final Tally tally;
  private long lastSummary;

  ProgressLog(PrintWriter out, LongSupplier clock) {
    this.out = out;
    this.clock = clock;
    this.tally = new Tally(clock);
    this.lastSummary = clock.getAsLong();
  }

  @Override
  public synchronized void resolved(HubRepo repo, String commit) {
    print("pulling " + repo + " (commit " + ProgressBar.abbreviate(commit) + ")");
  }

  @Override
  public synchronized void planned(int files, long totalBytes, long presentBytes) {
    tally.plan(totalBytes, presentBytes);
    lastSummary = clock.getAsLong();
    print(Tally.describePlan(files, totalBytes, presentBytes));
  }

  @Override
  public synchronized void fileStarted(String path, long size) {
    print("fetching " + path + (size >= 0 ? " (" + Units.bytes(size) + ")" : ""));
  }

  @Override
  public void transferred(long bytes) {
    tally.add(bytes);
    long now = clock.getAsLong();
    synchronized (this) {
      if (now - lastSummary >= SUMMARY_NANOS) {
        lastSummary = now;
        print("progress: " + tally.summary());
      }
    }
  }

  @Override
  public synchronized void fileDone(String path, long size) {
    print("done " + path);
  }

  @Override
  public synchronized void retrying(String path, int failures, Duration wait, String reason) {
    print(path + ": " + reason + "; retrying in " + Units.duration(wait) + " (try " + (failures + 1) + ")");
  }

  @Override
  public synchronized void note(String message) {
    print(message);
  }

  @Override
  public synchronized void finished(PulledModel model) {
    print("pulled " + model.repo() + " (" + Units.bytes(model.totalBytes()) + ", "
        + Units.bytes(model.downloadedBytes()) + " downloaded in " + Units.duration(model.elapsed()) + ") into "
        + model.dir());
  }

  private void print(String line) {
    out.println(line);
    out.flush();
  }
}
