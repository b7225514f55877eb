package dev.glance.server.api;

import dev.glance.engine.GlanceException;
import dev.glance.server.security.AccessControl;
import dev.glance.server.usage.UsageReport;
import dev.glance.server.usage.UsageReportJson;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code GET /v1/usage?from=&to=&group_by=key|day|model[&key=KEY_ID]}: requests, tokens, cost, cost
 * per 1000 requests, the reference price and the saving, and latency percentiles, from the usage
 * ledger. An admin sees every key (or the one named by {@code key}); any other caller with a key
 * sees only that key's usage. Dates are UTC days ({@code 2026-11-01}) or instants
 * ({@code 2026-11-01T12:00:00Z}); {@code to} is exclusive (a day means its end), the default range
 * is the 30 days before now.
 */
public final class UsageRoute {
  public static final String PATH = "/v1/usage";
  private static final long MAX_DAYS = 3660;

  private final AccessControl access;
  private final UsageReport reports;
  private final String currency;
  private final Clock clock;

  public UsageRoute(AccessControl access, UsageReport reports, String currency, Clock clock) {
    this.access = access;
    this.reports = reports;
    this.currency = currency;
    this.clock = clock;
  }

  /** The refusal of an admin route to a caller who is not an admin. */
  public static ApiError notAdmin(String route) {
    return new ApiError.Forbidden(route + " needs an admin key (settings.json access.admin_keys) or, when keys"
        + " are off, a client on this machine", "permission_denied", "admin_required");
  }

  public void handle(Context ctx, AccessControl.Caller caller) {
    Optional<String> scope;
    if (access.isAdmin(caller)) {
      scope = Optional.ofNullable(ctx.queryParam("key")).filter(k -> !k.isBlank());
    } else if (caller.keyId().isPresent()) {
      String asked = ctx.queryParam("key");
      if (asked != null && !asked.isBlank() && !asked.equals(caller.keyId().get())) {
        throw new ApiError.Forbidden("only an admin key may see another key's usage", "permission_denied",
            "admin_required");
      }
      scope = caller.keyId();
    } else {
      throw notAdmin(PATH);
    }
    Instant to = date(ctx.queryParam("to"), "to", true).orElse(clock.instant());
    Instant from = date(ctx.queryParam("from"), "from", false).orElse(to.minus(30, ChronoUnit.DAYS));
    if (!from.isBefore(to)) {
      throw new ApiError.InvalidRequest("from (" + from + ") must be before to (" + to + ")", "from");
    }
    if (ChronoUnit.DAYS.between(from, to) > MAX_DAYS) {
      throw new ApiError.InvalidRequest("the range may span at most " + MAX_DAYS + " days", "from");
    }
    String group = Optional.ofNullable(ctx.queryParam("group_by")).orElse("day").toLowerCase(Locale.ROOT);
    UsageReport.GroupBy groupBy = switch (group) {
      case "key" -> UsageReport.GroupBy.KEY;
      case "day" -> UsageReport.GroupBy.DAY;
      case "model" -> UsageReport.GroupBy.MODEL;
      default -> throw new ApiError.InvalidRequest("group_by must be key, day or model, got '" + group + "'",
          "group_by");
    };
    UsageReport.Result r = reports.query(from, to, groupBy, currency, scope);
    ctx.header("Cache-Control", "no-store");
    ctx.contentType("application/json").result(UsageReportJson.toJson(r));
  }

  private static Optional<Instant> date(String value, String param, boolean end) {
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(UsageReport.parseBound(value, end));
    } catch (GlanceException.BadRequest e) {
      throw new ApiError.InvalidRequest(param + ": " + e.getMessage(), param);
    }
  }
}
