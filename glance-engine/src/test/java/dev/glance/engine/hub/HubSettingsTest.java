package dev.glance.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The environment variables read as huggingface_hub reads them. */
class HubSettingsTest {
  @TempDir Path home;

  @Test
  void defaultsMatchHuggingFaceHub() {
    HubSettings s = HubSettings.fromEnvironment(Map.of(), home);
    assertEquals(URI.create("https://huggingface.co"), s.endpoint());
    assertEquals(home.resolve(".cache/huggingface/hub"), s.cacheDir());
    assertEquals(Optional.empty(), s.token());
    assertFalse(s.offline());
  }

  @Test
  void readsEndpointCacheTokenAndOffline() {
    HubSettings s = HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "https://hf-mirror.com/",
        "HF_HOME", "~/hf", "HF_TOKEN", " hf_abc \n", "HF_HUB_OFFLINE", "1", "HF_HUB_DOWNLOAD_TIMEOUT", "2.5"), home);
    assertEquals(URI.create("https://hf-mirror.com"), s.endpoint());
    assertEquals(home.resolve("hf/hub"), s.cacheDir());
    assertEquals(Optional.of("hf_abc"), s.token());
    assertTrue(s.offline());
    assertEquals(Duration.ofMillis(2500), s.readTimeout());
    assertFalse(s.toString().contains("hf_abc"), "the token never appears in logs");

    assertEquals(Path.of("/data/hub"), HubSettings.fromEnvironment(
        Map.of("HF_HOME", "/x", "HF_HUB_CACHE", "/data/hub"), home).cacheDir());
    assertEquals(Path.of("/xdg/huggingface/hub"), HubSettings.fromEnvironment(
        Map.of("XDG_CACHE_HOME", "/xdg"), home).cacheDir());
    for (String on : new String[] {"ON", "yes", "True"}) {
      assertTrue(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", on), home).offline());
    }
    assertFalse(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0"), home).offline());
  }

  @Test
  void readsTheTokenFileWhenHfTokenIsUnset() throws IOException {
    Files.createDirectories(home.resolve(".cache/huggingface"));
    Files.writeString(home.resolve(".cache/huggingface/token"), "hf_from_file\n");
    assertEquals(Optional.of("hf_from_file"), HubSettings.fromEnvironment(Map.of(), home).token());
    assertEquals(Optional.of("hf_env"), HubSettings.fromEnvironment(Map.of("HF_TOKEN", "hf_env"), home).token());
    Path other = home.resolve("tok");
    Files.writeString(other, "hf_path");
    assertEquals(Optional.of("hf_path"),
        HubSettings.fromEnvironment(Map.of("HF_TOKEN_PATH", other.toString()), home).token());
  }

  @Test
  void badValuesAreNamed() {
    var e = assertThrows(GlanceException.BadRequest.class,
        () -> HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "ftp://x"), home));
    assertTrue(e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
    var t = assertThrows(GlanceException.BadRequest.class,
        () -> HubSettings.fromEnvironment(Map.of("HF_HUB_ETAG_TIMEOUT", "soon"), home));
    assertTrue(t.getMessage().startsWith("HF_HUB_ETAG_TIMEOUT must be"), t.getMessage());
  }

  @Test
  void backoffDoublesUpToTheCap() {
    RetryPolicy p = new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(5));
    assertEquals(Duration.ofSeconds(1), p.backoff(1));
    assertEquals(Duration.ofSeconds(2), p.backoff(2));
    assertEquals(Duration.ofSeconds(4), p.backoff(3));
    assertEquals(Duration.ofSeconds(5), p.backoff(4));
    assertEquals(Duration.ofSeconds(5), p.backoff(40));
  }
}
