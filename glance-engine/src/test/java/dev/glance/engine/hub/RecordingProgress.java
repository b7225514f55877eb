package dev.glance.engine.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Keeps every progress event, for tests to check what a person would have been told. */
final class RecordingProgress implements DownloadProgress {
  final List<String> events = new ArrayList<>();
  final AtomicLong transferred = new AtomicLong();
  volatile long plannedTotal = -1;
  volatile long plannedPresent = -1;

  @Override
  public synchronized void resolved(HubRepo repo, String commit) {
    events.add("resolved " + repo + " " + commit);
  }

  @Override
  public synchronized void planned(int files, long totalBytes, long presentBytes) {
    plannedTotal = totalBytes;
    plannedPresent = presentBytes;
    events.add("planned " + files + " " + totalBytes + " " + presentBytes);
  }

  @Override
  public synchronized void fileStarted(String path, long size) {
    events.add("started " + path);
  }

  @Override
  public void transferred(long bytes) {
    transferred.addAndGet(bytes);
  }

  @Override
  public synchronized void fileDone(String path, long size) {
    events.add("done " + path);
  }

  @Override
  public synchronized void retrying(String path, int failures, Duration wait, String reason) {
    events.add("retry " + path + ": " + reason);
  }

  @Override
  public synchronized void note(String message) {
    events.add("note " + message);
  }

  @Override
  public synchronized void finished(PulledModel model) {
    events.add("finished " + model.commit());
  }

  synchronized List<String> matching(String prefix) {
    return events.stream().filter(e -> e.startsWith(prefix)).toList();
  }
}
