package dev.glance.server.state;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.glance.engine.GlanceException;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The state database: SQLite in the data directory by default, PostgreSQL (or anything Flyway and
 * a JDBC driver support) given a JDBC URL. Migrations run at open, so every process that opens
 * the database sees the same schema.
 */
public final class Database implements AutoCloseable {
  private final String url;
  private final HikariDataSource pool;
  private final boolean sqlite;

  private Database(String url, HikariDataSource pool) {
    this.url = url;
    this.pool = pool;
    this.sqlite = url.startsWith("jdbc:sqlite:");
  }

  /** Opens (and migrates) the database at {@code url}; errors name the URL without secrets. */
  public static Database open(String url) {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(url);
    cfg.setPoolName("glance-db");
    boolean sqlite = url.startsWith("jdbc:sqlite:");
    // SQLite allows one writer: one connection avoids SQLITE_BUSY between our own threads;
    // WAL and a busy timeout let other processes (glance keys ...) work beside a running server.
    cfg.setMaximumPoolSize(sqlite ? 1 : 8);
    if (sqlite) {
      cfg.addDataSourceProperty("journal_mode", "WAL");
      cfg.addDataSourceProperty("busy_timeout", "10000");
      cfg.addDataSourceProperty("synchronous", "FULL");
    }
    cfg.setInitializationFailTimeout(-1);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(cfg);
    } catch (RuntimeException e) {
      throw new GlanceException.Storage("cannot open database " + redact(url) + ": " + rootMessage(e), e);
    }
    try {
      Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
      try (Connection c = ds.getConnection()) {
        c.isValid(5);
      }
    } catch (FlywayException | SQLException e) {
      ds.close();
      throw new GlanceException.Storage("cannot open database " + redact(url) + ": " + rootMessage(e), e);
    }
    return new Database(url, ds);
  }

  public DataSource dataSource() {
    return pool;
  }

  public Connection connection() throws SQLException {
    return pool.getConnection();
  }

  public boolean isSqlite() {
    return sqlite;
  }

  public String url() {
    return redact(url);
  }

  /** Drops a password=... parameter so URLs can appear in messages and logs. */
  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  @Override
  public void close() {
    pool.close();
  }
}
