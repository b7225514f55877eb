package dev.glance.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import dev.glance.server.state.Database;
import dev.glance.server.state.TestDatabases;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class KeyStoreTest {
  @TempDir Path tmp;

  static List<String> kinds() {
    return TestDatabases.kinds();
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void createListRevokeAndOnlyAHashIsStored(String kind) throws Exception {
    String url = TestDatabases.url(kind, tmp);
    try (Database db = Database.open(url)) {
      KeyStore keys = new KeyStore(db, Clock.systemUTC());
      assertFalse(keys.anyExists());
      var limits = new KeyLimits(OptionalInt.of(60), OptionalInt.of(10000), OptionalInt.of(2), OptionalDouble.of(5),
          KeyLimits.BudgetPeriod.MONTH);
      var a = keys.create("team-a", limits, Optional.of(Instant.parse("2099-01-01T00:00:00Z")));
      var b = keys.create("team-b", KeyLimits.none(), Optional.empty());
      assertTrue(keys.anyExists());
      assertEquals(List.of("team-a", "team-b"), keys.list().stream().map(ApiKey::name).toList());
      ApiKey stored = keys.findBySecret(a.secret()).orElseThrow();
      assertEquals(limits, stored.limits());
      assertEquals(a.key().id(), stored.id());
      assertTrue(keys.findBySecret(a.secret() + "x").isEmpty());
      assertTrue(keys.findBySecret("sk-not-ours").isEmpty());
      // The secret itself is nowhere in the database.
      try (var c = db.connection(); var st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT * FROM api_keys")) {
        while (rs.next()) {
          for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            String v = rs.getString(i);
            assertFalse(v != null && (v.contains(a.secret()) || v.contains(b.secret())), "secret stored in column " + i);
          }
        }
      }
      var dup = assertThrows(GlanceException.BadRequest.class, () -> keys.create("team-a", KeyLimits.none(), Optional.empty()));
      assertTrue(dup.getMessage().contains("already exists"));
      assertTrue(keys.revoke(b.key().id()));
      assertTrue(keys.findBySecret(b.secret()).orElseThrow().revoked().isPresent());
      assertFalse(keys.revoke("nobody"));
    } finally {
      TestDatabases.cleanup(url);
    }
  }
}
