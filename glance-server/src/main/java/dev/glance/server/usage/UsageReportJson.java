package dev.glance.server.usage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.io.Json;

/**
 * The JSON shape of a usage report, shared by GET /v1/usage and {@code glance usage --json}: the
 * range, grouping and currency, one object per group in {@code data}, their {@code total}, and
 * end-to-end latency percentiles in each (the total's are the whole range's).
 */
public final class UsageReportJson {
  private UsageReportJson() {}

  public static String toJson(UsageReport.Result r) {
    ObjectNode o = Json.mapper().createObjectNode();
    o.put("object", "usage_report");
    o.put("from", r.from().toString());
    o.put("to", r.to().toString());
    o.put("group_by", r.groupBy().name().toLowerCase(java.util.Locale.ROOT));
    r.keyId().ifPresent(k -> o.put("key_id", k));
    o.put("currency", r.currency());
    var rows = o.putArray("data");
    r.rows().forEach(row -> row(rows.addObject(), row));
    row(o.putObject("total"), r.total());
    return o.toString();
  }

  private static void row(ObjectNode o, UsageReport.Row row) {
    o.put("group", row.group());
    o.put("requests", row.requests());
    o.put("errors", row.errors());
    o.put("text_tokens", row.textTokens());
    o.put("image_tokens", row.imageTokens());
    o.put("cached_tokens", row.cachedTokens());
    o.put("completion_tokens", row.completionTokens());
    o.put("busy_ms", row.busyMs());
    o.put("cost", row.cost());
    o.put("cost_per_1000_requests", row.costPer1000Requests());
    o.put("reference_cost", row.referenceCost());
    o.put("saving", row.saving());
    latency(o, row.latency());
  }

  private static void latency(ObjectNode o, UsageReport.Latency latency) {
    ObjectNode l = o.putObject("latency_ms");
    l.put("p50", latency.p50());
    l.put("p95", latency.p95());
    l.put("p99", latency.p99());
  }
}
