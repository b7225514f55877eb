package dev.glance.cli;

import dev.glance.engine.GlanceException;
import dev.glance.server.security.KeyStore;
import dev.glance.server.state.Database;
import dev.glance.server.usage.UsageReport;
import dev.glance.server.usage.UsageReportJson;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code glance usage}: requests, tokens, cost and saving from the usage ledger. */
@Command(name = "usage", mixinStandardHelpOptions = true,
    description = "Report usage and cost from the ledger, grouped by key, day or model.")
final class UsageCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin DataDirOption data;

  @Option(names = "--from", paramLabel = "DATE",
      description = "start: a UTC day (2026-11-01) or an instant (2026-11-01T12:00:00Z); default 30 days before --to")
  String from;

  @Option(names = "--to", paramLabel = "DATE",
      description = "end (exclusive; a day means its end, so --from D --to D is day D); default now")
  String to;

  @Option(names = "--key", paramLabel = "KEY", description = "only this key's usage (its id or name)")
  String key;

  @Option(names = "--group-by", paramLabel = "key|day|model", defaultValue = "day", description = "default ${DEFAULT-VALUE}")
  String groupBy;

  @Option(names = "--json", description = "print the report as JSON (the same shape as GET /v1/usage)")
  boolean json;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() {
    Instant end = to == null ? Instant.now() : UsageReport.parseBound(to, true);
    Instant start = from == null ? end.minus(30, ChronoUnit.DAYS) : UsageReport.parseBound(from, false);
    var settings = data.settings();
    UsageReport.Result r;
    try (Database db = data.open(settings)) {
      Optional<String> keyId = Optional.empty();
      if (key != null) {
        keyId = Optional.of(new KeyStore(db, Clock.systemUTC()).list().stream()
            .filter(k -> k.id().equals(key) || k.name().equals(key)).findFirst()
            .orElseThrow(() -> new GlanceException.BadRequest("no key with id or name '" + key + "'")).id());
      }
      r = new UsageReport(db).query(start, end, UsageReport.GroupBy.parse(groupBy), settings.cost().currency(), keyId);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(UsageReportJson.toJson(r));
    } else {
      out.printf("usage %s .. %s%s, by %s, cost in %s%n", r.from(), r.to(),
          r.keyId().map(k -> " of " + k).orElse(""), r.groupBy().name().toLowerCase(), r.currency());
      String fmt = "%-20s %9s %7s %11s %11s %11s %11s %12s %12s %12s%n";
      out.printf(fmt, "GROUP", "REQUESTS", "ERRORS", "TEXT TOK", "IMAGE TOK", "CACHED TOK", "COMPL TOK", "COST",
          "COST/1K REQ", "SAVING");
      for (UsageReport.Row row : r.rows()) {
        print(out, fmt, row);
      }
      print(out, fmt, r.total());
      out.printf("latency p50 %.0f ms, p95 %.0f ms, p99 %.0f ms%n", r.latency().p50(), r.latency().p95(), r.latency().p99());
    }
    out.flush();
    return 0;
  }

  private static void print(PrintWriter out, String fmt, UsageReport.Row row) {
    out.printf(fmt, row.group(), row.requests(), row.errors(), row.textTokens(), row.imageTokens(), row.cachedTokens(),
        row.completionTokens(), String.format("%.4f", row.cost()), String.format("%.4f", row.costPer1000Requests()),
        String.format("%.4f", row.saving()));
  }
}
