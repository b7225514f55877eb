package dev.glance.server.state;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;

/**
 * Real databases for tests: a SQLite file in a temp dir, and a fresh schema on the PostgreSQL
 * server at 127.0.0.1:5432 (trust auth, database test). A missing PostgreSQL fails the test:
 * .ci/run starts it.
 */
public final class TestDatabases {
  public static final String PG_BASE = System.getProperty("glance.test.postgres",
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  private TestDatabases() {}

  public static String sqlite(Path dir) {
    return "jdbc:sqlite:" + dir.resolve("glance-test.db");
  }

  /** Creates a schema of its own and returns a URL that uses it. */
  public static String postgresSchema() throws SQLException {
    String schema = "glance_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(PG_BASE); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return PG_BASE + "&currentSchema=" + schema;
  }

  public static void dropSchema(String url) throws SQLException {
    String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
    try (Connection c = DriverManager.getConnection(PG_BASE); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  /** Both kinds, for parameterised tests: "sqlite" or "postgres". */
  public static List<String> kinds() {
    return List.of("sqlite", "postgres");
  }

  public static String url(String kind, Path tmp) throws SQLException {
    return kind.equals("sqlite") ? sqlite(tmp) : postgresSchema();
  }

  public static void cleanup(String url) throws SQLException {
    if (url.startsWith("jdbc:postgresql:")) {
      dropSchema(url);
    }
  }
}
