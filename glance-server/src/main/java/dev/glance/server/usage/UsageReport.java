package dev.glance.server.usage;

import dev.glance.engine.GlanceException;
import dev.glance.server.state.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Aggregates of the usage ledger over a time range, grouped by key, UTC day or model: requests,
 * tokens, cost, cost per 1000 requests, what a commercial API would have charged and the saving.
 * Sums are computed by the database over the same rows the totals come from, so the totals always
 * equal the sum of the groups.
 */
public final class UsageReport {
  private static final long DAY_MS = 86_400_000L;

  private final Database db;

  public UsageReport(Database db) {
    this.db = db;
  }

  /** How rows are grouped. */
  public enum GroupBy {
    KEY("COALESCE(key_id, '(none)')"),
    DAY("ts_ms / " + DAY_MS),
    MODEL("COALESCE(model, '(none)')");

    private final String expr;

    GroupBy(String expr) {
      this.expr = expr;
    }

    public static GroupBy parse(String s) {
      return switch (s == null ? "day" : s.toLowerCase(Locale.ROOT)) {
        case "key" -> KEY;
        case "day" -> DAY;
        case "model" -> MODEL;
        default -> throw new GlanceException.BadRequest("group_by must be key, day or model, got '" + s + "'");
      };
    }
  }

  /** One group's (or the total's) figures. */
  public record Row(
      String group, long requests, long errors, long textTokens, long imageTokens, long cachedTokens,
      long completionTokens, double busyMs, double cost, double referenceCost) {

    public double costPer1000Requests() {
      return requests == 0 ? 0 : cost / requests * 1000;
    }

    public double saving() {
      return referenceCost - cost;
    }
  }

  /** Latency percentiles (end to end, ms) over the range. */
  public record Latency(double p50, double p95, double p99) {}

  public record Result(Instant from, Instant to, GroupBy groupBy, String currency, List<Row> rows, Row total,
      Latency latency) {}

  /** Rows with from <= time < to. */
  public Result query(Instant from, Instant to, GroupBy groupBy, String currency) {
    if (!from.isBefore(to)) {
      throw new GlanceException.BadRequest("'from' must be before 'to'");
    }
    String sums = "COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), COALESCE(SUM(text_tokens), 0),"
        + " COALESCE(SUM(image_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
        + " COALESCE(SUM(busy_ms), 0), COALESCE(SUM(cost), 0), COALESCE(SUM(reference_cost), 0)";
    String where = " FROM usage_records WHERE ts_ms >= ? AND ts_ms < ?";
    List<Row> rows = new ArrayList<>();
    Row total;
    double[] latencies;
    try (Connection c = db.connection()) {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + groupBy.expr + " AS g, " + sums + where
          + " GROUP BY " + groupBy.expr + " ORDER BY 1")) {
        bindRange(ps, from, to);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String g = groupBy == GroupBy.DAY
                ? LocalDate.ofEpochDay(rs.getLong(1)).toString() : rs.getString(1);
            rows.add(row(g, rs, 2));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT " + sums + where)) {
        bindRange(ps, from, to);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          total = row("total", rs, 1);
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT latency_ms" + where)) {
        bindRange(ps, from, to);
        List<Double> l = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            l.add(rs.getDouble(1));
          }
        }
        latencies = l.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      }
    } catch (SQLException e) {
      throw new GlanceException.Storage("usage report: " + e.getMessage(), e);
    }
    Latency latency = new Latency(percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99));
    return new Result(from, to, groupBy, currency, rows, total, latency);
  }

  /** What a key has been charged since {@code from} (for budgets). */
  public double spentSince(String keyId, Instant from) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT COALESCE(SUM(cost), 0) FROM usage_records WHERE key_id = ? AND ts_ms >= ?")) {
      ps.setString(1, keyId);
      ps.setLong(2, from.toEpochMilli());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getDouble(1);
      }
    } catch (SQLException e) {
      throw new GlanceException.Storage("usage ledger: " + e.getMessage(), e);
    }
  }

  /** Start of the UTC day or month containing {@code now}. */
  public static Instant periodStart(Instant now, boolean month) {
    LocalDate d = now.atOffset(ZoneOffset.UTC).toLocalDate();
    return (month ? d.withDayOfMonth(1) : d).atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  private static void bindRange(PreparedStatement ps, Instant from, Instant to) throws SQLException {
    ps.setLong(1, from.toEpochMilli());
    ps.setLong(2, to.toEpochMilli());
  }

  private static Row row(String group, ResultSet rs, int i) throws SQLException {
    return new Row(group, rs.getLong(i), rs.getLong(i + 1), rs.getLong(i + 2), rs.getLong(i + 3), rs.getLong(i + 4),
        rs.getLong(i + 5), rs.getDouble(i + 6), rs.getDouble(i + 7), rs.getDouble(i + 8));
  }

  /** Nearest-rank percentile of sorted values; 0 when there are none. */
  static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
  }

}
