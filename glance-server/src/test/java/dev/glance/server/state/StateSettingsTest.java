package dev.glance.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import dev.glance.server.usage.CostModel;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory's resolution and its settings.json: defaults, every section, and errors naming the file. */
class StateSettingsTest {
  @TempDir Path tmp;

  @Test
  void theDataDirectoryIsTheFlagElseGlanceHomeElseTheHomeDirectory() {
    assertEquals(tmp.resolve("a"), DataDirectory.resolve(tmp.resolve("a"), Map.of("GLANCE_HOME", "/x")).path());
    assertEquals(Path.of("/x"), DataDirectory.resolve(null, Map.of("GLANCE_HOME", "/x")).path());
    assertEquals(Path.of(System.getProperty("user.home"), ".glance"), DataDirectory.resolve(null, Map.of()).path());
  }

  @Test
  void withoutSettingsEverythingIsOpenFreeAndSqlite() {
    DataDirectory dir = new DataDirectory(tmp);
    StateSettings s = StateSettings.load(dir);
    assertEquals(dir.sqliteUrl(), s.databaseUrl());
    assertEquals(0, s.cost().charge(1e6, 1000, 1000));
    assertFalse(s.access().requireKeys());
    assertTrue(s.access().allowList().ranges().isEmpty());
  }

  @Test
  void everySection() throws Exception {
    Files.writeString(tmp.resolve("settings.json"), """
        {"database": "jdbc:postgresql://127.0.0.1:5432/test?user=postgres",
         "cost": {"currency": "CNY", "hardware_per_month": 1200, "prompt_per_million": 0.5,
                  "reference": {"name": "api", "input_per_million": 2, "output_per_million": 8}},
         "access": {"require_keys": true, "allow": ["10.0.0.0/8", "::1"], "trusted_proxies": ["127.0.0.1"],
                    "per_ip": {"rpm": 60, "tpm": 100000, "max_concurrent": 4}, "admin_keys": ["ops"],
                    "metrics_need_admin": true}}""");
    StateSettings s = StateSettings.load(new DataDirectory(tmp));
    assertEquals("jdbc:postgresql://127.0.0.1:5432/test?user=postgres", s.databaseUrl());
    CostModel c = s.cost();
    assertEquals("CNY", c.currency());
    assertEquals(1200 / CostModel.HOURS_PER_MONTH, c.hardwarePerHour(), 1e-12);
    assertEquals(0.5, c.promptPerMillion());
    assertEquals(8, c.reference().outputPerMillion());
    var a = s.access();
    assertTrue(a.requireKeys() && a.metricsNeedAdmin());
    assertTrue(a.allowList().allows(InetAddress.getByName("10.2.3.4")));
    assertFalse(a.allowList().allows(InetAddress.getByName("192.168.0.1")));
    assertEquals(List.of("ops"), a.adminKeys());
    assertEquals(60, a.perIpLimits().rpm().getAsInt());
    assertEquals(4, a.perIpLimits().maxConcurrent().getAsInt());
    assertFalse(a.withRequireKeys(false).requireKeys());
  }

  @Test
  void mistakesNameTheFileAndTheSetting() throws Exception {
    Path file = tmp.resolve("settings.json");
    Files.writeString(file, "{\"cost\": {\"curency\": \"EUR\"}}");
    var e = assertThrows(GlanceException.BadRequest.class, () -> StateSettings.load(new DataDirectory(tmp)));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("curency"), e.getMessage());
    Files.writeString(file, "{\"cost\": {\"hardware_per_hour\": \"lots\"}}");
    e = assertThrows(GlanceException.BadRequest.class, () -> StateSettings.load(new DataDirectory(tmp)));
    assertTrue(e.getMessage().contains("hardware_per_hour must be a number"), e.getMessage());
    Files.writeString(file, "{\"access\": {\"allow\": [\"10.0.0.0/33\"]}}");
    e = assertThrows(GlanceException.BadRequest.class, () -> StateSettings.load(new DataDirectory(tmp)));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("10.0.0.0/33"), e.getMessage());
  }
}
