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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Aggregates of the usage ledger over a time range, of every key or of one, grouped by key, UTC day
 * or model: requests, tokens, cost, cost per 1000 requests, what a commercial API would have
 * charged, the saving, and end-to-end latency percentiles. Sums are computed by the database over
 * the same rows the totals come from, so the totals always equal the sum of the groups.
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

  /** One group's (or the total's) figures, with its end-to-end latency percentiles. */
  public record Row(
      String group, long requests, long errors, long textTokens, long imageTokens, long cachedTokens,
      long completionTokens, double busyMs, double cost, double referenceCost, Latency latency) {

    public double costPer1000Requests() {
      return requests == 0 ? 0 : cost / requests * 1000;
    }

    public double saving() {
      return referenceCost - cost;
    }
  }

  /** Latency percentiles (end to end, ms); 0 when there are no requests. */
  public record Latency(double p50, double p95, double p99) {
    static Latency of(double[] sorted) {
      return new Latency(percentile(sorted, 0.50), percentile(sorted, 0.95), percentile(sorted, 0.99));
    }
  }

  /**
   * A report: the range, how it is grouped, the key it is limited to (empty = every key), the rows
   * in group order, their total and the latency over the whole range.
   */
  public record Result(Instant from, Instant to, GroupBy groupBy, Optional<String> keyId, String currency,
      List<Row> rows, Row total, Latency latency) {}

  /** Rows with from <= time < to, of every key. */
  public Result query(Instant from, Instant to, GroupBy groupBy, String currency) {
    return query(from, to, groupBy, currency, Optional.empty());
  }

  /** Rows with from <= time < to, of one key when {@code keyId} is given. */
  public Result query(Instant from, Instant to, GroupBy groupBy, String currency, Optional<String> keyId) {
    if (!from.isBefore(to)) {
      throw new GlanceException.BadRequest("'from' must be before 'to'");
    }
    String sums = "COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), COALESCE(SUM(text_tokens), 0),"
        + " COALESCE(SUM(image_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
        + " COALESCE(SUM(busy_ms), 0), COALESCE(SUM(cost), 0), COALESCE(SUM(reference_cost), 0)";
    String where = " FROM usage_records WHERE ts_ms >= ? AND ts_ms < ?" + (keyId.isPresent() ? " AND key_id = ?" : "");
    List<Row> rows = new ArrayList<>();
    Row total;
    try (Connection c = db.connection()) {
      // Latencies first, per group, for the percentiles; the sums come from the database.
      Map<String, List<Double>> latencies = new LinkedHashMap<>();
      List<Double> all = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + groupBy.expr + " AS g, latency_ms" + where)) {
        bind(ps, from, to, keyId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            double l = rs.getDouble(2);
            latencies.computeIfAbsent(group(groupBy, rs), g -> new ArrayList<>()).add(l);
            all.add(l);
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT " + groupBy.expr + " AS g, " + sums + where
          + " GROUP BY " + groupBy.expr + " ORDER BY 1")) {
        bind(ps, from, to, keyId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String g = group(groupBy, rs);
            rows.add(row(g, rs, 2, sorted(latencies.getOrDefault(g, List.of()))));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT " + sums + where)) {
        bind(ps, from, to, keyId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          total = row("total", rs, 1, sorted(all));
        }
      }
    } catch (SQLException e) {
      throw new GlanceException.Storage("usage report: " + e.getMessage(), e);
    }
    return new Result(from, to, groupBy, keyId, currency, rows, total, total.latency());
  }

  private static String group(GroupBy groupBy, ResultSet rs) throws SQLException {
    return groupBy == GroupBy.DAY ? LocalDate.ofEpochDay(rs.getLong(1)).toString() : rs.getString(1);
  }

  private static double[] sorted(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
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

  /**
   * One end of a report's range: an instant ({@code 2026-11-01T12:00:00Z}) or a UTC day
   * ({@code 2026-11-01}), which as the range's (exclusive) end means the end of that day, so that
   * from=2026-11-01&amp;to=2026-11-01 is that whole day.
   */
  public static Instant parseBound(String value, boolean end) {
    try {
      if (value.contains("T")) {
        return Instant.parse(value);
      }
      LocalDate day = LocalDate.parse(value);
      return (end ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      throw new GlanceException.BadRequest("'" + value + "' is not a date like 2026-11-01 or an instant like"
          + " 2026-11-01T12:00:00Z");
    }
  }

  /** Start of the UTC day or month containing {@code now}. */
  public static Instant periodStart(Instant now, boolean month) {
    LocalDate d = now.atOffset(ZoneOffset.UTC).toLocalDate();
    return (month ? d.withDayOfMonth(1) : d).atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  private static void bind(PreparedStatement ps, Instant from, Instant to, Optional<String> keyId)
      throws SQLException {
    ps.setLong(1, from.toEpochMilli());
    ps.setLong(2, to.toEpochMilli());
    if (keyId.isPresent()) {
      ps.setString(3, keyId.get());
    }
  }

  private static Row row(String group, ResultSet rs, int i, double[] sortedLatencies) throws SQLException {
    return new Row(group, rs.getLong(i), rs.getLong(i + 1), rs.getLong(i + 2), rs.getLong(i + 3), rs.getLong(i + 4),
        rs.getLong(i + 5), rs.getDouble(i + 6), rs.getDouble(i + 7), rs.getDouble(i + 8), Latency.of(sortedLatencies));
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
