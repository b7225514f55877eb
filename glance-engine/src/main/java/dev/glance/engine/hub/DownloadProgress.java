package dev.glance.engine.hub;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * Told what a pull is doing, so a person can watch it: the plan, bytes as they arrive (from
 * several downloads at once: implementations are thread-safe), retries and the end. {@link
 * #forStream} picks a one-line progress bar for a terminal and plain log lines otherwise.
 */
public interface DownloadProgress {

  /** The revision resolved to {@code commit}; files follow. */
  void resolved(HubRepo repo, String commit);

  /** The snapshot has {@code files} files of {@code totalBytes}, of which some are already here. */
  void planned(int files, long totalBytes, long presentBytes);

  /** A file starts (or resumes) downloading. */
  void fileStarted(String path, long size);

  /** Bytes written; negative when a restart discarded bytes counted before. */
  void transferred(long bytes);

  /** A file is complete and verified. */
  void fileDone(String path, long size);

  /** A try failed for a reason worth retrying; the next starts after {@code wait}. */
  void retrying(String path, int failures, Duration wait, String reason);

  /** Something a person should know that is not an error (a checksum mismatch being repaired). */
  void note(String message);

  /** Everything is in the snapshot. */
  void finished(PulledModel model);

  /** Reports nothing. */
  static DownloadProgress none() {
    return new DownloadProgress() {
      @Override
      public void resolved(HubRepo repo, String commit) {}

      @Override
      public void planned(int files, long totalBytes, long presentBytes) {}

      @Override
      public void fileStarted(String path, long size) {}

      @Override
      public void transferred(long bytes) {}

      @Override
      public void fileDone(String path, long size) {}

      @Override
      public void retrying(String path, int failures, Duration wait, String reason) {}

      @Override
      public void note(String message) {}

      @Override
      public void finished(PulledModel model) {}
    };
  }

  /** A progress bar on one updating line when {@code terminal}, else plain log lines. */
  static DownloadProgress forStream(PrintWriter out, boolean terminal) {
    return terminal ? new ProgressBar(out, System::nanoTime) : new ProgressLog(out, System::nanoTime);
  }
}
