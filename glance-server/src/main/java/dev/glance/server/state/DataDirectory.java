package dev.glance.server.state;

import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where Glance keeps its state (keys, usage ledger, settings): {@code --data-dir}, else the
 * environment variable {@code GLANCE_HOME}, else {@code ~/.glance}. serve and the admin commands
 * resolve it the same way, so they share one database.
 */
public record DataDirectory(Path path) {
  public static final String ENV = "GLANCE_HOME";

  /** Resolves the directory from a flag value (may be null) and the environment. */
  public static DataDirectory resolve(Path flag, Map<String, String> env) {
    Path p;
    if (flag != null) {
      p = flag;
    } else if (env.get(ENV) != null && !env.get(ENV).isBlank()) {
      p = Path.of(env.get(ENV));
    } else {
      p = Path.of(System.getProperty("user.home"), ".glance");
    }
    return new DataDirectory(p.toAbsolutePath().normalize());
  }

  /** Creates the directory if needed; fails with a message naming it. */
  public DataDirectory create() {
    try {
      Files.createDirectories(path);
    } catch (IOException e) {
      throw new GlanceException.Storage("cannot create data directory " + path + ": " + e.getMessage(), e);
    }
    if (!Files.isWritable(path)) {
      throw new GlanceException.Storage("data directory " + path + " is not writable", null);
    }
    return this;
  }

  public Path settingsFile() {
    return path.resolve("settings.json");
  }

  /** The default embedded database: a SQLite file in the data directory. */
  public String sqliteUrl() {
    return "jdbc:sqlite:" + path.resolve("glance.db");
  }
}
