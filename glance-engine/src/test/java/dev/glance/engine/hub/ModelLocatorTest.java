package dev.glance.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --model as a directory or a repository id: pulled once, then served from the cache. */
class ModelLocatorTest {
  static final String ID = "test-org/glm4v-tiny";
  @TempDir Path cache;
  FakeHub hub;

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
    hub.addRepo(ID, FakeHub.filesOf(Fixture.DIR), Optional.empty());
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  ModelLocator locator(boolean offline) {
    HubSettings s = HubSettings.of(hub.endpoint(), cache).withOffline(offline).withTimeouts(
        Duration.ofSeconds(5), Duration.ofSeconds(5), new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10)));
    return new ModelLocator(s, DownloadProgress.none());
  }

  @Test
  void aDirectoryIsUsedAsItIs() {
    assertEquals(Fixture.DIR, locator(false).locate(Fixture.DIR.toString()));
    assertEquals(List.of(), hub.arrivals());
  }

  @Test
  void aRepositoryIsPulledOnFirstUseThenTakenFromTheCache() {
    Path first = locator(false).locate(ID);
    assertTrue(Files.isRegularFile(first.resolve("model.safetensors")));
    assertEquals(cache.resolve("models--test-org--glm4v-tiny/snapshots/" + hub.repo(ID).commit()), first);

    hub.clearLog();
    assertEquals(first, locator(false).locate(ID));
    assertEquals(first, locator(true).locate(ID));
    String commit = hub.repo(ID).commit();
    assertEquals(first, locator(true).locate(ID + "@" + commit));
    assertEquals(List.of(), hub.arrivals(), "a complete cached snapshot needs no network");
  }

  @Test
  void offlineAndUncachedIsAClearError() {
    var e = assertThrows(GlanceException.Download.class, () -> locator(true).locate(ID));
    assertEquals(GlanceException.Download.Reason.OFFLINE, e.reason());
    assertEquals(List.of(), hub.arrivals());
  }

  @Test
  void anUnknownRepositoryMayHaveBeenMeantAsADirectory() {
    var e = assertThrows(GlanceException.Download.class, () -> locator(false).locate("models/glm"));
    assertEquals(GlanceException.Download.Reason.NOT_FOUND, e.reason());
    assertTrue(e.getMessage().startsWith("repository not found: models/glm on ")
        && e.getMessage().endsWith("; nor is there a model directory " + Path.of("models/glm").toAbsolutePath()),
        e.getMessage());
  }

  @Test
  void neitherADirectoryNorARepositoryIdIsAModelLoadError() {
    var e = assertThrows(GlanceException.ModelLoad.class, () -> locator(false).locate("no/such/dir"));
    assertEquals("no/such/dir: model directory not found (nor is it a Hugging Face repository id,"
        + " ORG/NAME[@REVISION])", e.getMessage());
  }
}
