package dev.glance.server.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.server.state.Database;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A separate JVM writes usage records, printing each request id once its write is acknowledged
 * (as the server does before answering); it is killed with SIGKILL mid-stream. Every acknowledged
 * id must be in the SQLite ledger, exactly once.
 */
class LedgerCrashTest {
  @TempDir Path tmp;

  /** The child: writes records from 8 threads until killed. */
  public static void main(String[] args) throws Exception {
    try (Database db = Database.open(args[0]); UsageLedger ledger = new UsageLedger(db, 10_000)) {
      CostModel cost = CostModel.free();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        threads.add(Thread.ofPlatform().start(() -> {
          for (int i = 0; ; i++) {
            String id = "t" + thread + "-" + i;
            ledger.recordAndWait(UsageLedgerTest.rec(id, Instant.now(), "k", "m", 5, 0, 1, 10, cost, 200),
                Duration.ofSeconds(30));
            synchronized (System.out) {
              System.out.println("ACK " + id);
              System.out.flush();
            }
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  @Test
  void killDashNineLosesNoAcknowledgedRowAndDoublesNone() throws Exception {
    String url = "jdbc:sqlite:" + tmp.resolve("crash.db");
    Database.open(url).close(); // migrate before the child starts
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        LedgerCrashTest.class.getName(), url).redirectErrorStream(false).start();
    Set<String> acked = new HashSet<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      String line;
      while (acked.size() < 400 && System.nanoTime() < deadline && (line = r.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(line.substring(4));
        }
      }
      // SIGKILL: no shutdown hooks, no flushing, mid-batch.
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not die");
    }
    assertTrue(acked.size() >= 400, "child acknowledged only " + acked.size() + " writes");
    Set<String> rows = new HashSet<>();
    int count = 0;
    try (Database db = Database.open(url); var c = db.connection(); var st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT request_id FROM usage_records")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
        count++;
      }
    }
    assertEquals(rows.size(), count, "a request id appears twice");
    for (String id : acked) {
      assertTrue(rows.contains(id), "acknowledged " + id + " is missing after kill -9");
    }
  }
}
