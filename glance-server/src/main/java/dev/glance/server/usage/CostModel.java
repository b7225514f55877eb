package dev.glance.server.usage;

import dev.glance.engine.GlanceException;

/**
 * What a request costs. The hardware is a fixed price (per hour, or per month = 730.5 hours,
 * the average month) charged to requests by the engine time they kept busy: a request that held
 * the engine for 2 s on a machine costing 1.20 an hour costs 0.000667. Optional per-token prices
 * are added on top (electricity, a margin). The reference prices say what the same tokens would
 * have cost at a commercial API, per million input (prompt, image included) and output tokens.
 */
public record CostModel(
    String currency,
    double hardwarePerHour,
    double promptPerMillion,
    double completionPerMillion,
    Reference reference) {

  /** Average hours in a month (365.25 x 24 / 12). */
  public static final double HOURS_PER_MONTH = 730.5;

  /** A commercial API's per-million-token prices in the same currency. */
  public record Reference(String name, double inputPerMillion, double outputPerMillion) {
    public Reference {
      nonNegative("reference input price", inputPerMillion);
      nonNegative("reference output price", outputPerMillion);
    }
  }

  public CostModel {
    if (currency == null || currency.isBlank() || currency.length() > 8) {
      throw new GlanceException.BadRequest("currency must be 1 to 8 characters, e.g. USD or CNY");
    }
    nonNegative("hardware price", hardwarePerHour);
    nonNegative("prompt token price", promptPerMillion);
    nonNegative("completion token price", completionPerMillion);
  }

  public static CostModel perMonth(String currency, double perMonth, Reference reference) {
    return new CostModel(currency, perMonth / HOURS_PER_MONTH, 0, 0, reference);
  }

  /** Nothing configured: every request costs 0. */
  public static CostModel free() {
    return new CostModel("USD", 0, 0, 0, new Reference("none", 0, 0));
  }

  public double charge(double busyMs, int promptTokens, int completionTokens) {
    return busyMs / 3_600_000.0 * hardwarePerHour
        + promptTokens * promptPerMillion / 1e6
        + completionTokens * completionPerMillion / 1e6;
  }

  public double referenceCharge(int promptTokens, int completionTokens) {
    return promptTokens * reference.inputPerMillion() / 1e6 + completionTokens * reference.outputPerMillion() / 1e6;
  }

  private static void nonNegative(String what, double v) {
    if (!(v >= 0) || !Double.isFinite(v)) {
      throw new GlanceException.BadRequest(what + " must be a non-negative number, got " + v);
    }
  }
}
