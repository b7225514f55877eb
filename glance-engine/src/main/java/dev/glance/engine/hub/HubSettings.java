package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where models come from and go to: the hub endpoint (the Hugging Face Hub or a mirror speaking the
 * same protocol), the access token, the cache directory in the standard Hugging Face layout, and
 * whether the network may be used at all. {@link #fromEnvironment} reads the same environment
 * variables as {@code huggingface_hub}, so a cache and token set up for other tools are shared;
 * tests build the record directly.
 *
 * @param endpoint base URL of the hub, without a trailing slash
 * @param token bearer token for gated and private repositories
 * @param cacheDir the hub cache ({@code models--ORG--NAME} folders live here)
 * @param offline use the cache only, never the network
 * @param metadataTimeout limit for a metadata request (repository info, file headers)
 * @param readTimeout a transfer that receives nothing for this long is dropped and resumed
 * @param parallelDownloads files fetched at the same time
 * @param retry retries after transient failures
 */
public record HubSettings(
    URI endpoint,
    Optional<String> token,
    Path cacheDir,
    boolean offline,
    Duration metadataTimeout,
    Duration readTimeout,
    int parallelDownloads,
    RetryPolicy retry) {

  public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
  private static final Set<String> TRUE = Set.of("1", "on", "yes", "true");

  public HubSettings {
    String scheme = endpoint.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
      throw new GlanceException.BadRequest("hub endpoint (HF_ENDPOINT) must be an http(s) URL, got '"
          + endpoint + "'");
    }
    String s = endpoint.toString();
    endpoint = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    token = token.map(String::strip).filter(t -> !t.isEmpty());
    if (parallelDownloads < 1) {
      throw new GlanceException.BadRequest("parallel downloads must be at least 1, got " + parallelDownloads);
    }
  }

  /** Settings for {@code cacheDir} with every other value at its default (no token, online). */
  public static HubSettings of(URI endpoint, Path cacheDir) {
    return new HubSettings(endpoint, Optional.empty(), cacheDir, false, Duration.ofSeconds(10),
        Duration.ofSeconds(30), 4, RetryPolicy.defaults());
  }

  /**
   * Reads {@code HF_ENDPOINT}, {@code HF_TOKEN} (else the file at {@code HF_TOKEN_PATH} or
   * {@code $HF_HOME/token}), {@code HF_HUB_CACHE} (else {@code $HF_HOME/hub}, {@code HF_HOME}
   * defaulting to {@code $XDG_CACHE_HOME/huggingface} or {@code ~/.cache/huggingface}),
   * {@code HF_HUB_OFFLINE}, {@code HF_HUB_ETAG_TIMEOUT} and {@code HF_HUB_DOWNLOAD_TIMEOUT}
   * (seconds), as {@code huggingface_hub} does.
   */
  public static HubSettings fromEnvironment(Map<String, String> env, Path userHome) {
    URI endpoint = env(env, "HF_ENDPOINT").map(HubSettings::uri).orElse(DEFAULT_ENDPOINT);
    Path home = env(env, "HF_HOME").map(p -> expand(p, userHome))
        .orElseGet(() -> env(env, "XDG_CACHE_HOME").map(p -> expand(p, userHome))
            .orElse(userHome.resolve(".cache")).resolve("huggingface"));
    Path cache = env(env, "HF_HUB_CACHE").or(() -> env(env, "HUGGINGFACE_HUB_CACHE"))
        .map(p -> expand(p, userHome)).orElse(home.resolve("hub"));
    Optional<String> token = env(env, "HF_TOKEN").or(() -> env(env, "HUGGING_FACE_HUB_TOKEN"))
        .or(() -> readToken(env(env, "HF_TOKEN_PATH").map(p -> expand(p, userHome))
            .orElse(home.resolve("token"))));
    boolean offline = env(env, "HF_HUB_OFFLINE")
        .map(v -> TRUE.contains(v.toLowerCase(Locale.ROOT))).orElse(false);
    HubSettings d = of(endpoint, cache);
    return new HubSettings(endpoint, token, cache, offline,
        seconds(env, "HF_HUB_ETAG_TIMEOUT", d.metadataTimeout()),
        seconds(env, "HF_HUB_DOWNLOAD_TIMEOUT", d.readTimeout()), d.parallelDownloads(), d.retry());
  }

  public HubSettings withToken(String value) {
    return new HubSettings(endpoint, Optional.ofNullable(value), cacheDir, offline, metadataTimeout,
        readTimeout, parallelDownloads, retry);
  }

  public HubSettings withOffline(boolean value) {
    return new HubSettings(endpoint, token, cacheDir, value, metadataTimeout, readTimeout,
        parallelDownloads, retry);
  }

  public HubSettings withCacheDir(Path value) {
    return new HubSettings(endpoint, token, value, offline, metadataTimeout, readTimeout,
        parallelDownloads, retry);
  }

  public HubSettings withParallelDownloads(int value) {
    return new HubSettings(endpoint, token, cacheDir, offline, metadataTimeout, readTimeout, value,
        retry);
  }

  public HubSettings withTimeouts(Duration metadata, Duration read, RetryPolicy policy) {
    return new HubSettings(endpoint, token, cacheDir, offline, metadata, read, parallelDownloads,
        policy);
  }

  /** Never prints the token itself: settings end up in logs and error reports. */
  @Override
  public String toString() {
    return "HubSettings[endpoint=" + endpoint + ", token=" + (token.isPresent() ? "(set)" : "(none)")
        + ", cacheDir=" + cacheDir + ", offline=" + offline + ", metadataTimeout=" + metadataTimeout
        + ", readTimeout=" + readTimeout + ", parallelDownloads=" + parallelDownloads + ", retry="
        + retry + "]";
  }

  private static Optional<String> env(Map<String, String> env, String name) {
    return Optional.ofNullable(env.get(name)).map(String::strip).filter(v -> !v.isEmpty());
  }

  private static URI uri(String text) {
    try {
      return new URI(text);
    } catch (URISyntaxException e) {
      throw new GlanceException.BadRequest("HF_ENDPOINT is not a URL: '" + text + "'");
    }
  }

  private static Path expand(String path, Path userHome) {
    if (path.equals("~")) {
      return userHome;
    }
    return path.startsWith("~/") ? userHome.resolve(path.substring(2)) : Path.of(path);
  }

  private static Optional<String> readToken(Path file) {
    try {
      return Files.isRegularFile(file) ? Optional.of(Files.readString(file).strip()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Duration seconds(Map<String, String> env, String name, Duration fallback) {
    return env(env, name).map(v -> {
      try {
        double s = Double.parseDouble(v);
        if (s > 0) {
          return Duration.ofMillis(Math.round(s * 1000));
        }
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
      throw new GlanceException.BadRequest(name + " must be a positive number of seconds, got '" + v + "'");
    }).orElse(fallback);
  }
}
