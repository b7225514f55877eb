package dev.glance.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.server.ManualClock;
import dev.glance.server.state.Database;
import dev.glance.server.state.TestDatabases;
import dev.glance.server.usage.UsageLedger;
import dev.glance.server.usage.UsageRecord;
import dev.glance.server.usage.UsageReport;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every key case, the allow-list and forged forwarding, on SQLite and on PostgreSQL. */
class AccessControlTest {
  @TempDir Path tmp;

  static List<String> kinds() {
    return TestDatabases.kinds();
  }

  static InetAddress ip(String s) throws Exception {
    return InetAddress.getByName(s);
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void keysAllowListAndBudgets(String kind) throws Exception {
    String url = TestDatabases.url(kind, tmp);
    ManualClock clock = new ManualClock();
    try (Database db = Database.open(url); UsageLedger ledger = new UsageLedger(db, 100)) {
      KeyStore keys = new KeyStore(db, clock);
      AccessSettings settings = new AccessSettings(false, IpAllowList.parse(List.of("127.0.0.0/8", "10.0.0.0/8")),
          List.of(CidrRange.parse("127.0.0.1/32")), KeyLimits.none(), List.of("ops"), false);
      AccessControl ac = new AccessControl(settings, keys, new UsageReport(db),
          new RateLimiter(clock, Duration.ofMinutes(1)), clock);
      InetAddress local = ip("127.0.0.1");

      // No keys yet and not required: open (to allowed addresses).
      assertInstanceOf(AccessControl.Admitted.class, ac.admit(local, null, null, null, 10));
      var refused = assertInstanceOf(AccessControl.Refused.class, ac.admit(ip("192.168.5.5"), null, null, null, 10));
      assertEquals(403, refused.status());
      assertTrue(refused.message().contains("192.168.5.5"), refused.message());
      // A forged X-Forwarded-For from an untrusted peer does not help it in.
      assertInstanceOf(AccessControl.Refused.class, ac.admit(ip("192.168.5.5"), "10.0.0.1", null, null, 10));
      // From the trusted proxy, the forwarded client is the one judged.
      assertInstanceOf(AccessControl.Refused.class, ac.admit(local, "192.168.5.5", null, null, 10));
      assertInstanceOf(AccessControl.Admitted.class, ac.admit(local, "10.1.2.3", null, null, 10));

      var created = keys.create("alice", new KeyLimits(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
          OptionalDouble.of(0.5), KeyLimits.BudgetPeriod.DAY), Optional.empty());
      assertTrue(created.secret().startsWith(KeyStore.SECRET_PREFIX));
      // Now that a key exists, every inference request needs one.
      assertEquals(401, status(ac.admit(local, null, null, null, 10)));
      assertEquals(401, status(ac.admit(local, null, "Bearer glk_wrong", null, 10)));
      var ok = assertInstanceOf(AccessControl.Admitted.class, ac.admit(local, null, "Bearer " + created.secret(), null, 10));
      assertEquals(Optional.of(created.key().id()), ok.caller().keyId());
      assertInstanceOf(AccessControl.Admitted.class, ac.admit(local, null, null, created.secret(), 10));
      assertFalse(ac.isAdmin(ok.caller()));

      // Over budget: spend 0.5 today, then 403 until the next day.
      ledger.recordAndWait(record("r1", clock.instant(), created.key().id(), 0.5), Duration.ofSeconds(10));
      var broke = assertInstanceOf(AccessControl.Refused.class, ac.admit(local, null, "Bearer " + created.secret(), null, 10));
      assertEquals(403, broke.status());
      assertEquals("budget_exhausted", broke.code());
      clock.advance(Duration.ofDays(1));
      assertInstanceOf(AccessControl.Admitted.class, ac.admit(local, null, "Bearer " + created.secret(), null, 10));

      // Expired and revoked keys.
      var temp = keys.create("temp", KeyLimits.none(), Optional.of(clock.instant().plusSeconds(60)));
      assertInstanceOf(AccessControl.Admitted.class, ac.admit(local, null, "Bearer " + temp.secret(), null, 1));
      clock.advance(Duration.ofSeconds(61));
      var expired = assertInstanceOf(AccessControl.Refused.class, ac.admit(local, null, "Bearer " + temp.secret(), null, 1));
      assertTrue(expired.message().contains("expired"), expired.message());
      assertTrue(keys.revoke("alice"));
      var revoked = assertInstanceOf(AccessControl.Refused.class, ac.admit(local, null, "Bearer " + created.secret(), null, 1));
      assertTrue(revoked.message().contains("revoked"), revoked.message());
      assertFalse(keys.revoke("alice"), "already revoked");

      var ops = keys.create("ops", KeyLimits.none(), Optional.empty());
      var admin = assertInstanceOf(AccessControl.Admitted.class, ac.identify(local, null, "Bearer " + ops.secret(), null));
      assertTrue(ac.isAdmin(admin.caller()));
    } finally {
      TestDatabases.cleanup(url);
    }
  }

  private static int status(AccessControl.Decision d) {
    return assertInstanceOf(AccessControl.Refused.class, d).status();
  }

  static UsageRecord record(String id, Instant t, String key, double cost) {
    return new UsageRecord(id, t, key, "127.0.0.1", "/v1/chat/completions", "m", 1, "h", 10, 20, 0, 5,
        1, 2, 3, 4, 9, 12, 200, "stop", cost, 0.1, "USD");
  }
}
