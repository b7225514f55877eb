package dev.glance.server;

import dev.glance.server.security.AccessControl;
import dev.glance.server.security.AccessSettings;
import dev.glance.server.security.KeyStore;
import dev.glance.server.security.RateLimiter;
import dev.glance.server.state.Database;
import dev.glance.server.state.TestDatabases;
import dev.glance.server.usage.CostModel;
import dev.glance.server.usage.UsageLedger;
import dev.glance.server.usage.UsageMeter;
import dev.glance.server.usage.UsageReport;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;

/**
 * The state a test server runs with, wired as {@code glance serve} wires it: a real database (a
 * SQLite file in a temporary directory, or a fresh schema on the local PostgreSQL), keys, the
 * usage ledger, rate limits and access control on the given clock.
 */
public final class TestState implements AutoCloseable {
  public final String url;
  public final Database db;
  public final KeyStore keys;
  public final UsageLedger ledger;
  public final UsageReport reports;
  public final AccessControl access;
  public final CostModel cost;
  public final StateServices services;
  private final Path dir;

  private TestState(String kind, AccessSettings settings, CostModel cost, Clock clock) {
    try {
      this.dir = Files.createTempDirectory("glance-state");
      this.url = TestDatabases.url(kind, dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL at 127.0.0.1:5432 is needed (.ci/run starts it): " + e.getMessage(), e);
    }
    this.db = Database.open(url);
    this.keys = new KeyStore(db, clock);
    this.ledger = new UsageLedger(db, 10_000);
    this.reports = new UsageReport(db);
    this.cost = cost;
    this.access = new AccessControl(settings, keys, reports, new RateLimiter(clock, Duration.ofMinutes(1)), clock);
    this.services = new StateServices(access, new UsageMeter(ledger, cost, Duration.ofSeconds(10)), reports);
  }

  /** SQLite, open to everyone, every request free, the system clock. */
  public static TestState sqlite() {
    return open("sqlite", AccessSettings.open(), CostModel.free(), Clock.systemUTC());
  }

  /** {@code kind} is "sqlite" or "postgres" (see {@link TestDatabases#kinds()}). */
  public static TestState open(String kind, AccessSettings settings, CostModel cost, Clock clock) {
    return new TestState(kind, settings, cost, clock);
  }

  @Override
  public void close() {
    ledger.close();
    db.close();
    try {
      TestDatabases.cleanup(url);
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
