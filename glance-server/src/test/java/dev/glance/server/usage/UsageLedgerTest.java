package dev.glance.server.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import dev.glance.server.state.Database;
import dev.glance.server.state.TestDatabases;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class UsageLedgerTest {
  @TempDir Path tmp;

  static List<String> kinds() {
    return TestDatabases.kinds();
  }

  static UsageRecord rec(String id, Instant t, String key, String model, int text, int image, int completion,
      double busyMs, CostModel cost, int status) {
    return new UsageRecord(id, t, key, "127.0.0.1", "/infer", model, image > 0 ? 1 : 0, null, text, image, 0,
        completion, 1, 2, 3, 4, busyMs, busyMs + 10, status, status == 200 ? "stop" : null,
        cost.charge(busyMs, text + image, completion), cost.referenceCharge(text + image, completion), cost.currency());
  }

  @Test
  void costArithmeticOnKnownInputs() {
    // ¥1200 a month = 1200 / 730.5 per hour; 1.5 s busy.
    CostModel c = CostModel.perMonth("CNY", 1200, new CostModel.Reference("api", 2.0, 8.0));
    assertEquals(1200 / 730.5 * 1.5 / 3600, c.charge(1500, 1000, 100), 1e-12);
    assertEquals(1000 * 2.0 / 1e6 + 100 * 8.0 / 1e6, c.referenceCharge(1000, 100), 1e-15);
    CostModel tokens = new CostModel("USD", 3.6, 1.0, 2.0, new CostModel.Reference("x", 0, 0));
    assertEquals(0.001 + 0.001 + 0.001, tokens.charge(1000, 1000, 500), 1e-15);
    assertThrows(GlanceException.BadRequest.class, () -> new CostModel("USD", -1, 0, 0, new CostModel.Reference("x", 0, 0)));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void batchedWritesTotalsAndGroups(String kind) throws Exception {
    String url = TestDatabases.url(kind, tmp);
    CostModel cost = CostModel.perMonth("CNY", 1200, new CostModel.Reference("api", 2.0, 8.0));
    Instant day1 = Instant.parse("2026-11-01T10:00:00Z");
    Instant day2 = Instant.parse("2026-11-02T23:59:59Z");
    try (Database db = Database.open(url); UsageLedger ledger = new UsageLedger(db, 1000)) {
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      List<UsageRecord> all = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        UsageRecord r = rec("req-" + i, i % 3 == 0 ? day2 : day1, i % 2 == 0 ? "key_a" : "key_b",
            i % 5 == 0 ? "m2" : "m1", 10 + i, i % 4 == 0 ? 0 : 64, 1 + i % 7, 100 + i, cost, i % 10 == 0 ? 500 : 200);
        all.add(r);
        acks.add(ledger.record(r));
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get();
      // A repeated write of the same request id does not double it.
      ledger.recordAndWait(all.get(7), Duration.ofSeconds(10));
      UsageReport report = new UsageReport(db);
      Instant from = Instant.parse("2026-11-01T00:00:00Z");
      Instant to = Instant.parse("2026-11-03T00:00:00Z");
      for (UsageReport.GroupBy g : UsageReport.GroupBy.values()) {
        var result = report.query(from, to, g, "CNY");
        var total = result.total();
        assertEquals(300, total.requests());
        assertEquals(30, total.errors());
        assertEquals(all.stream().mapToLong(UsageRecord::textTokens).sum(), total.textTokens());
        assertEquals(all.stream().mapToLong(UsageRecord::imageTokens).sum(), total.imageTokens());
        assertEquals(all.stream().mapToLong(UsageRecord::completionTokens).sum(), total.completionTokens());
        assertEquals(all.stream().mapToDouble(UsageRecord::cost).sum(), total.cost(), 1e-9);
        assertEquals(all.stream().mapToDouble(UsageRecord::referenceCost).sum(), total.referenceCost(), 1e-9);
        // Totals equal the sum of the groups.
        assertEquals(total.requests(), result.rows().stream().mapToLong(UsageReport.Row::requests).sum());
        assertEquals(total.cost(), result.rows().stream().mapToDouble(UsageReport.Row::cost).sum(), 1e-9);
        assertEquals(total.completionTokens(), result.rows().stream().mapToLong(UsageReport.Row::completionTokens).sum());
        assertEquals(total.cost() / 300 * 1000, total.costPer1000Requests(), 1e-9);
        assertEquals(total.referenceCost() - total.cost(), total.saving(), 1e-12);
      }
      var byDay = report.query(from, to, UsageReport.GroupBy.DAY, "CNY");
      assertEquals(List.of("2026-11-01", "2026-11-02"), byDay.rows().stream().map(UsageReport.Row::group).toList());
      assertEquals(200, byDay.rows().get(0).requests());
      var byKey = report.query(from, to, UsageReport.GroupBy.KEY, "CNY");
      assertEquals(List.of("key_a", "key_b"), byKey.rows().stream().map(UsageReport.Row::group).toList());
      var narrow = report.query(Instant.parse("2026-11-02T00:00:00Z"), to, UsageReport.GroupBy.MODEL, "CNY");
      assertEquals(100, narrow.total().requests());
      assertTrue(byDay.latency().p50() > 0 && byDay.latency().p99() >= byDay.latency().p95());
      double spent = report.spentSince("key_a", from);
      assertEquals(all.stream().filter(r -> r.keyId().equals("key_a")).mapToDouble(UsageRecord::cost).sum(), spent, 1e-9);
    } finally {
      TestDatabases.cleanup(url);
    }
  }

  @Test
  void percentiles() {
    double[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertEquals(5, UsageReport.percentile(v, 0.5));
    assertEquals(10, UsageReport.percentile(v, 0.95));
    assertEquals(0, UsageReport.percentile(new double[0], 0.5));
  }
}
