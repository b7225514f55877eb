package dev.glance.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What the progress views print, on a clock the test moves. */
class ProgressTest {
  static final HubRepo REPO = new HubRepo("zai-org/GLM-4.6V-Flash", "main");
  static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
  final AtomicLong clock = new AtomicLong(1_000_000_000L);
  final StringWriter text = new StringWriter();
  final PrintWriter out = new PrintWriter(text);

  void advance(double seconds) {
    clock.addAndGet((long) (seconds * 1e9));
  }

  @Test
  void theBarShowsBytesRateAndTimeLeftOnOneLine() {
    ProgressBar bar = new ProgressBar(out, clock::get);
    bar.resolved(REPO, COMMIT);
    bar.planned(3, 20_000_000_000L, 0);
    for (int i = 0; i < 10; i++) {
      advance(1);
      bar.transferred(50_000_000); // 50 MB/s
    }
    String s = text.toString();
    String last = s.substring(s.lastIndexOf('\r') + 1);
    assertTrue(s.startsWith("pulling zai-org/GLM-4.6V-Flash (commit 0123456789)\n3 files, 20.0 GB\n"), s);
    assertEquals("zai-org/GLM-4.6V-Flash [........................] 500.0 MB / 20.0 GB    2%  50.0 MB/s  6m30s left",
        last.stripTrailing());
    assertTrue(!last.contains("\n"), "the bar stays on one line");
  }

  @Test
  void theBarRedrawsAtMostTenTimesASecond() {
    ProgressBar bar = new ProgressBar(out, clock::get);
    bar.resolved(REPO, COMMIT);
    bar.planned(1, 1000, 0);
    int before = count(text.toString(), '\r');
    for (int i = 0; i < 100; i++) {
      bar.transferred(1); // all at the same instant
    }
    assertEquals(before, count(text.toString(), '\r'));
    advance(0.2);
    bar.transferred(1);
    assertEquals(before + 1, count(text.toString(), '\r'));
  }

  @Test
  void messagesGoAboveTheBar() {
    ProgressBar bar = new ProgressBar(out, clock::get);
    bar.resolved(REPO, COMMIT);
    bar.planned(1, 1000, 0);
    bar.retrying("model.safetensors", 1, Duration.ofSeconds(2), "connection reset");
    String s = text.toString();
    assertTrue(s.contains("\rmodel.safetensors: connection reset; retrying in 2s (try 2)\n"), s);
  }

  @Test
  void theLogPrintsPlainLinesAndASummaryEveryTenSeconds() {
    ProgressLog log = new ProgressLog(out, clock::get);
    log.resolved(REPO, COMMIT);
    log.planned(2, 2_000_000_000L, 500_000_000L);
    log.fileStarted("model.safetensors", 1_500_000_000L);
    for (int i = 0; i < 12; i++) {
      advance(1);
      log.transferred(10_000_000);
    }
    log.fileDone("model.safetensors", 1_500_000_000L);
    log.finished(new PulledModel(REPO, COMMIT, Path.of("/c/snap"), List.of("a"), 2_000_000_000L, 120_000_000L,
        Duration.ofSeconds(12)));
    assertEquals("""
        pulling zai-org/GLM-4.6V-Flash (commit 0123456789)
        2 files, 2.0 GB, 500.0 MB already here
        fetching model.safetensors (1.5 GB)
        progress: 600.0 MB / 2.0 GB   30%  10.0 MB/s  2m20s left
        done model.safetensors
        pulled zai-org/GLM-4.6V-Flash (2.0 GB, 120.0 MB downloaded in 12s) into /c/snap
        """, text.toString());
    assertTrue(!text.toString().contains("\r"));
  }

  @Test
  void unitsReadLikeOtherDownloadTools() {
    assertEquals("999 B", Units.bytes(999));
    assertEquals("1.5 kB", Units.bytes(1500));
    assertEquals("20.4 GB", Units.bytes(20_400_000_000L));
    assertEquals("59s", Units.duration(Duration.ofSeconds(59)));
    assertEquals("4m05s", Units.duration(Duration.ofSeconds(245)));
    assertEquals("2h03m", Units.duration(Duration.ofMinutes(123)));
  }

  private static int count(String s, char c) {
    return (int) s.chars().filter(x -> x == c).count();
  }
}
