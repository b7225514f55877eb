package dev.glance.cli;

import dev.glance.server.state.Database;
import dev.glance.server.usage.UsageReport;
import dev.glance.server.usage.UsageReportJson;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
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

  @Option(names = "--from", paramLabel = "DATE", description = "start (inclusive); default 30 days ago")
  String from;

  @Option(names = "--to", paramLabel = "DATE", description = "end (exclusive); default now")
  String to;

  @Option(names = "--group-by", paramLabel = "key|day|model", defaultValue = "day", description = "default ${DEFAULT-VALUE}")
  String groupBy;

  @Option(names = "--json", description = "print the report as JSON (the same shape as GET /v1/usage)")
  boolean json;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() {
    Instant end = to == null ? Instant.now() : KeysCommand.parseDate(to);
    Instant start = from == null ? end.minus(30, ChronoUnit.DAYS) : KeysCommand.parseDate(from);
    var settings = data.settings();
    UsageReport.Result r;
    try (Database db = data.open(settings)) {
      r = new UsageReport(db).query(start, end, UsageReport.GroupBy.parse(groupBy), settings.cost().currency());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(UsageReportJson.toJson(r));
    } else {
      out.printf("usage %s .. %s, by %s, cost in %s%n", r.from(), r.to(), r.groupBy().name().toLowerCase(), r.currency());
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
