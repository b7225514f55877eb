package dev.glance.server.security;

import dev.glance.engine.GlanceException;
import dev.glance.server.state.Database;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * API keys in the state database. A key's secret is shown once at creation and stored only as its
 * SHA-256 (secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force).
 * Every lookup reads the database, so keys created or revoked by {@code glance keys} in another
 * process take effect on a running server at once.
 */
public final class KeyStore {
  /** Secrets start with this, so they are recognisable in configs and secret scanners. */
  public static final String SECRET_PREFIX = "glk_";

  private final Database db;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  /** Set once a key is seen to exist; never cleared (keys are revoked, not deleted). */
  private volatile boolean keySeen;

  public KeyStore(Database db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** A new key and its secret, which is not stored and cannot be shown again. */
  public record CreatedKey(ApiKey key, String secret) {}

  public CreatedKey create(String name, KeyLimits limits, Optional<Instant> expires) {
    if (name == null || name.isBlank() || name.length() > 200) {
      throw new GlanceException.BadRequest("key name must be 1 to 200 characters");
    }
    byte[] raw = new byte[32];
    random.nextBytes(raw);
    String secret = SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    byte[] idBytes = new byte[6];
    random.nextBytes(idBytes);
    String id = "key_" + HexFormat.of().formatHex(idBytes);
    Instant now = clock.instant();
    ApiKey key = new ApiKey(id, name, secret.substring(0, 10), now, expires, Optional.empty(), limits);
    String sql = "INSERT INTO api_keys (id, name, key_hash, prefix, created_ms, expires_ms, revoked_ms, rpm, tpm,"
        + " max_concurrent, budget, budget_period) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)";
    try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      if (findByName(c, name).isPresent()) {
        throw new GlanceException.BadRequest("a key named '" + name + "' already exists");
      }
      ps.setString(1, id);
      ps.setString(2, name);
      ps.setString(3, hash(secret));
      ps.setString(4, key.prefix());
      ps.setLong(5, now.toEpochMilli());
      setLong(ps, 6, expires.map(Instant::toEpochMilli));
      setInt(ps, 7, limits.rpm());
      setInt(ps, 8, limits.tpm());
      setInt(ps, 9, limits.maxConcurrent());
      if (limits.budget().isPresent()) {
        ps.setDouble(10, limits.budget().getAsDouble());
      } else {
        ps.setNull(10, Types.DOUBLE);
      }
      ps.setString(11, limits.period().name().toLowerCase(java.util.Locale.ROOT));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw storage(e);
    }
    return new CreatedKey(key, secret);
  }

  /** Every key, oldest first (by name among keys made in the same millisecond: ids are random). */
  public List<ApiKey> list() {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT * FROM api_keys ORDER BY created_ms, name");
        ResultSet rs = ps.executeQuery()) {
      List<ApiKey> keys = new ArrayList<>();
      while (rs.next()) {
        keys.add(read(rs));
      }
      return keys;
    } catch (SQLException e) {
      throw storage(e);
    }
  }

  /**
   * True once any key has been created, revoked and expired ones included: revoking the last key
   * must not silently open the server to everyone.
   */
  public boolean anyExists() {
    // Keys are never deleted, so once one exists the answer stays true: only a server that has no
    // key yet pays a query per request (to notice `glance keys create` at once).
    if (keySeen) {
      return true;
    }
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM api_keys");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      keySeen = rs.getLong(1) > 0;
      return keySeen;
    } catch (SQLException e) {
      throw storage(e);
    }
  }

  /** Revokes the key with this id or name; false when there is none. */
  public boolean revoke(String idOrName) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE api_keys SET revoked_ms = ? WHERE (id = ? OR name = ?) AND revoked_ms IS NULL")) {
      ps.setLong(1, clock.millis());
      ps.setString(2, idOrName);
      ps.setString(3, idOrName);
      return ps.executeUpdate() > 0;
    } catch (SQLException e) {
      throw storage(e);
    }
  }

  /** The key whose secret this is, revoked and expired ones included (the caller decides). */
  public Optional<ApiKey> findBySecret(String secret) {
    if (secret == null || !secret.startsWith(SECRET_PREFIX) || secret.length() > 100) {
      return Optional.empty();
    }
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT * FROM api_keys WHERE key_hash = ?")) {
      ps.setString(1, hash(secret));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw storage(e);
    }
  }

  private static Optional<ApiKey> findByName(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT * FROM api_keys WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    }
  }

  private static ApiKey read(ResultSet rs) throws SQLException {
    KeyLimits limits = new KeyLimits(optInt(rs, "rpm"), optInt(rs, "tpm"), optInt(rs, "max_concurrent"),
        optDouble(rs, "budget"), KeyLimits.BudgetPeriod.parse(rs.getString("budget_period")));
    return new ApiKey(rs.getString("id"), rs.getString("name"), rs.getString("prefix"),
        Instant.ofEpochMilli(rs.getLong("created_ms")), optInstant(rs, "expires_ms"),
        optInstant(rs, "revoked_ms"), limits);
  }

  static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static OptionalInt optInt(ResultSet rs, String col) throws SQLException {
    int v = rs.getInt(col);
    return rs.wasNull() ? OptionalInt.empty() : OptionalInt.of(v);
  }

  private static OptionalDouble optDouble(ResultSet rs, String col) throws SQLException {
    double v = rs.getDouble(col);
    return rs.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  private static Optional<Instant> optInstant(ResultSet rs, String col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
  }

  private static void setInt(PreparedStatement ps, int i, OptionalInt v) throws SQLException {
    if (v.isPresent()) {
      ps.setInt(i, v.getAsInt());
    } else {
      ps.setNull(i, Types.INTEGER);
    }
  }

  private static void setLong(PreparedStatement ps, int i, Optional<Long> v) throws SQLException {
    if (v.isPresent()) {
      ps.setLong(i, v.get());
    } else {
      ps.setNull(i, Types.BIGINT);
    }
  }

  static GlanceException storage(SQLException e) {
    return new GlanceException.Storage("key store: " + e.getMessage(), e);
  }
}
