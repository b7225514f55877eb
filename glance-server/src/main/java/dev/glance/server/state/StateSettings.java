package dev.glance.server.state;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import dev.glance.engine.io.Json;
import dev.glance.server.security.AccessSettings;
import dev.glance.server.security.CidrRange;
import dev.glance.server.security.IpAllowList;
import dev.glance.server.security.KeyLimits;
import dev.glance.server.usage.CostModel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * The settings kept in the data directory's {@code settings.json}, all optional:
 *
 * <pre>
 * {
 *   "database": "jdbc:postgresql://127.0.0.1:5432/glance?user=glance",   // default: SQLite in the data dir
 *   "cost": {
 *     "currency": "CNY",
 *     "hardware_per_month": 1200,          // or "hardware_per_hour"
 *     "prompt_per_million": 0, "completion_per_million": 0,
 *     "reference": {"name": "a commercial vision API", "input_per_million": 1.1, "output_per_million": 4.4}
 *   },
 *   "access": {
 *     "require_keys": false,
 *     "allow": ["127.0.0.1/32", "::1/128", "10.0.0.0/8"],
 *     "trusted_proxies": ["127.0.0.1/32"],
 *     "per_ip": {"rpm": 60, "tpm": 100000, "max_concurrent": 4},
 *     "admin_keys": ["ops"],
 *     "metrics_need_admin": false
 *   }
 * }
 * </pre>
 */
public record StateSettings(String databaseUrl, CostModel cost, AccessSettings access) {

  public static StateSettings load(DataDirectory dir) {
    var file = dir.settingsFile();
    JsonNode root = Files.exists(file) ? Json.read(file) : Json.mapper().createObjectNode();
    String where = file.toString();
    String db = root.path("database").asText("");
    return new StateSettings(db.isBlank() ? dir.sqliteUrl() : db, cost(root.path("cost"), where),
        access(root.path("access"), where));
  }

  static CostModel cost(JsonNode c, String where) {
    if (c.isMissingNode()) {
      return CostModel.free();
    }
    known(c, where + " cost", "currency", "hardware_per_month", "hardware_per_hour", "prompt_per_million",
        "completion_per_million", "reference");
    double perHour = c.has("hardware_per_hour") ? number(c, "hardware_per_hour", where)
        : number(c, "hardware_per_month", where) / CostModel.HOURS_PER_MONTH;
    JsonNode r = c.path("reference");
    try {
      var reference = new CostModel.Reference(r.path("name").asText("reference API"),
          number(r, "input_per_million", where), number(r, "output_per_million", where));
      return new CostModel(c.path("currency").asText("USD"), perHour, number(c, "prompt_per_million", where),
          number(c, "completion_per_million", where), reference);
    } catch (GlanceException.BadRequest e) {
      throw new GlanceException.BadRequest(where + " cost: " + e.getMessage());
    }
  }

  static AccessSettings access(JsonNode a, String where) {
    if (a.isMissingNode()) {
      return AccessSettings.open();
    }
    known(a, where + " access", "require_keys", "allow", "trusted_proxies", "per_ip", "admin_keys",
        "metrics_need_admin");
    JsonNode ip = a.path("per_ip");
    try {
      KeyLimits perIp = new KeyLimits(optInt(ip, "rpm"), optInt(ip, "tpm"), optInt(ip, "max_concurrent"),
          OptionalDouble.empty(), KeyLimits.BudgetPeriod.MONTH);
      return new AccessSettings(a.path("require_keys").asBoolean(false), IpAllowList.parse(strings(a.path("allow"))),
          strings(a.path("trusted_proxies")).stream().map(CidrRange::parse).toList(), perIp,
          strings(a.path("admin_keys")), a.path("metrics_need_admin").asBoolean(false));
    } catch (GlanceException.BadRequest e) {
      throw new GlanceException.BadRequest(where + " access: " + e.getMessage());
    }
  }

  private static void known(JsonNode n, String where, String... keys) {
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      String k = it.next().getKey();
      if (!List.of(keys).contains(k)) {
        throw new GlanceException.BadRequest(where + ": unknown setting '" + k + "' (known: " + String.join(", ", keys) + ")");
      }
    }
  }

  private static double number(JsonNode n, String key, String where) {
    JsonNode v = n.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return 0;
    }
    if (!v.isNumber()) {
      throw new GlanceException.BadRequest(where + ": " + key + " must be a number");
    }
    return v.asDouble();
  }

  private static OptionalInt optInt(JsonNode n, String key) {
    return n.path(key).canConvertToInt() ? OptionalInt.of(n.path(key).asInt()) : OptionalInt.empty();
  }

  private static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.forEach(x -> out.add(x.asText()));
    return out;
  }
}
