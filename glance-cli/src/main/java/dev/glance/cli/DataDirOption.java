package dev.glance.cli;

import dev.glance.server.state.DataDirectory;
import dev.glance.server.state.Database;
import dev.glance.server.state.StateSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The --data-dir option shared by serve and the admin commands, and what it opens. */
final class DataDirOption {
  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "state directory (keys, usage ledger, settings.json); default $GLANCE_HOME, else ~/.glance")
  Path dataDir;

  @Option(names = "--database", paramLabel = "JDBC_URL", defaultValue = "${env:GLANCE_DATABASE}",
      description = "state database, e.g. jdbc:postgresql://127.0.0.1:5432/glance?user=glance (default:"
          + " settings.json's \"database\", else SQLite in the data directory) [GLANCE_DATABASE]")
  String database;

  DataDirectory directory() {
    return DataDirectory.resolve(dataDir, System.getenv()).create();
  }

  StateSettings settings() {
    return StateSettings.load(directory());
  }

  Database open(StateSettings settings) {
    return Database.open(database != null ? database : settings.databaseUrl());
  }
}
