package dev.glance.server.security;

import dev.glance.engine.GlanceException;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Per-key (or per-IP) limits: requests per minute, tokens per minute (prompt, image and completion
 * tokens), concurrent requests, and a spending budget per day or month.
 */
public record KeyLimits(
    OptionalInt rpm, OptionalInt tpm, OptionalInt maxConcurrent, OptionalDouble budget, BudgetPeriod period) {

  /** The calendar window a budget applies to (UTC). */
  public enum BudgetPeriod {
    DAY, MONTH;

    public static BudgetPeriod parse(String s) {
      return switch (s.toLowerCase(java.util.Locale.ROOT)) {
        case "day" -> DAY;
        case "month" -> MONTH;
        default -> throw new GlanceException.BadRequest("budget period must be 'day' or 'month', got '" + s + "'");
      };
    }
  }

  public KeyLimits {
    positive("rpm", rpm);
    positive("tpm", tpm);
    positive("max-concurrent", maxConcurrent);
    if (budget.isPresent() && !(budget.getAsDouble() >= 0 && Double.isFinite(budget.getAsDouble()))) {
      throw new GlanceException.BadRequest("budget must be a non-negative amount, got " + budget.getAsDouble());
    }
    if (period == null) {
      period = BudgetPeriod.MONTH;
    }
  }

  private static void positive(String what, OptionalInt v) {
    if (v.isPresent() && v.getAsInt() < 1) {
      throw new GlanceException.BadRequest(what + " must be at least 1, got " + v.getAsInt());
    }
  }

  public static KeyLimits none() {
    return new KeyLimits(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalDouble.empty(),
        BudgetPeriod.MONTH);
  }
}
