package dev.glance.cli;

import dev.glance.engine.GlanceException;
import dev.glance.server.security.ApiKey;
import dev.glance.server.security.KeyLimits;
import dev.glance.server.security.KeyStore;
import dev.glance.server.state.Database;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code glance keys create|list|revoke}: API keys in the data directory's database. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Manage API keys.",
    subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "choose create, list or revoke");
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a key; its secret is printed once and stored only as a hash.")
  static final class Create implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin DataDirOption data;

    @Option(names = "--name", required = true, description = "a name to recognise the key by (unique)")
    String name;

    @Option(names = "--rpm", paramLabel = "N", description = "requests per minute")
    Integer rpm;

    @Option(names = "--tpm", paramLabel = "N", description = "tokens per minute (prompt + image + completion)")
    Integer tpm;

    @Option(names = "--max-concurrent", paramLabel = "N", description = "requests at the same time")
    Integer maxConcurrent;

    @Option(names = "--budget", paramLabel = "AMOUNT", description = "spending limit per period, in the configured currency")
    Double budget;

    @Option(names = "--period", paramLabel = "day|month", defaultValue = "month", description = "budget period (default ${DEFAULT-VALUE})")
    String period;

    @Option(names = "--expires", paramLabel = "DATE", description = "expiry: 2027-01-31 (UTC midnight) or 2027-01-31T12:00:00Z")
    String expires;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
      KeyLimits limits = new KeyLimits(opt(rpm), opt(tpm), opt(maxConcurrent),
          budget == null ? OptionalDouble.empty() : OptionalDouble.of(budget), KeyLimits.BudgetPeriod.parse(period));
      Optional<Instant> expiry = expires == null ? Optional.empty() : Optional.of(parseDate(expires));
      var settings = data.settings();
      try (Database db = data.open(settings)) {
        var created = new KeyStore(db, Clock.systemUTC()).create(name, limits, expiry);
        PrintWriter out = spec.commandLine().getOut();
        out.println(created.secret());
        spec.commandLine().getErr().println("glance: created key " + created.key().id() + " '" + name
            + "'; the secret above is shown only once");
        out.flush();
      }
      return 0;
    }

    private static OptionalInt opt(Integer v) {
      return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never their secrets).")
  static final class ListKeys implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin DataDirOption data;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
      var settings = data.settings();
      try (Database db = data.open(settings)) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-16s %-20s %-12s %-10s %-21s %s%n", "ID", "NAME", "PREFIX", "STATE", "EXPIRES", "LIMITS");
        Instant now = Instant.now();
        for (ApiKey k : new KeyStore(db, Clock.systemUTC()).list()) {
          String state = k.revoked().isPresent() ? "revoked" : k.unusableReason(now).isPresent() ? "expired" : "active";
          out.printf("%-16s %-20s %-12s %-10s %-21s %s%n", k.id(), k.name(), k.prefix() + "…", state,
              k.expires().map(Instant::toString).orElse("-"), describe(k.limits()));
        }
        out.flush();
      }
      return 0;
    }

    private static String describe(KeyLimits l) {
      StringBuilder s = new StringBuilder();
      l.rpm().ifPresent(v -> s.append("rpm=").append(v).append(' '));
      l.tpm().ifPresent(v -> s.append("tpm=").append(v).append(' '));
      l.maxConcurrent().ifPresent(v -> s.append("concurrent=").append(v).append(' '));
      l.budget().ifPresent(v -> s.append("budget=").append(v).append('/').append(l.period().name().toLowerCase()));
      return s.isEmpty() ? "-" : s.toString().strip();
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a key by id or name.")
  static final class Revoke implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin DataDirOption data;

    @Parameters(paramLabel = "KEY", description = "key id (key_...) or name")
    String key;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
      var settings = data.settings();
      try (Database db = data.open(settings)) {
        if (!new KeyStore(db, Clock.systemUTC()).revoke(key)) {
          throw new GlanceException.BadRequest("no active key with id or name '" + key + "'");
        }
        spec.commandLine().getOut().println("revoked " + key);
        spec.commandLine().getOut().flush();
      }
      return 0;
    }
  }

  /** A date (UTC midnight) or an instant. */
  static Instant parseDate(String s) {
    try {
      return s.contains("T") ? Instant.parse(s) : LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException e) {
      throw new GlanceException.BadRequest("'" + s + "' is not a date like 2027-01-31 or 2027-01-31T12:00:00Z");
    }
  }
}
