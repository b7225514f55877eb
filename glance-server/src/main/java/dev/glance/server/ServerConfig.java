package dev.glance.server;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything {@code glance serve} can be told, with the defaults a single-user deployment wants.
 * The CLI fills it from flags and {@code GLANCE_*} environment variables; docs/API.md lists both.
 *
 * @param host address to listen on (127.0.0.1: only this machine)
 * @param port port to listen on; 0 picks a free one
 * @param servedModelName the model name clients must send; empty = the checkpoint directory's name
 * @param maxBodyBytes request bodies larger than this are refused (413) before they are read
 * @param maxImageBytes an encoded image larger than this is refused before decoding
 * @param maxImagePixels an image whose header declares more pixels is refused before decoding
 * @param maxImages most images in one request
 * @param maxTokensLimit the highest max_tokens a request may ask for; also the default
 * @param maxPixels ceiling on an image's pixels after resizing (fewer image tokens); 0 = the
 *     checkpoint's; a request may ask for less with {@code max_pixels}
 * @param queueSize requests that may wait while one runs; more are refused with 503
 * @param requestTimeout a generation running longer is stopped (504)
 * @param shutdownGrace on SIGTERM, how long in-flight requests may take to finish before they are
 *     cancelled
 * @param fetchImageUrls whether http(s) image URLs are fetched at all
 * @param fetchTimeout total time allowed to fetch one image URL, redirects included
 * @param fetchAllow addresses (CIDR such as 10.0.0.0/8, or a host name) that image URLs may reach
 *     although they are loopback, private, link-local or otherwise internal
 * @param requestLog where the request log goes: "-" = stdout, "" = nowhere, else a file appended to
 */
public record ServerConfig(
    String host,
    int port,
    String servedModelName,
    long maxBodyBytes,
    long maxImageBytes,
    long maxImagePixels,
    int maxImages,
    int maxTokensLimit,
    long maxPixels,
    int queueSize,
    Duration requestTimeout,
    Duration shutdownGrace,
    boolean fetchImageUrls,
    Duration fetchTimeout,
    List<String> fetchAllow,
    String requestLog) {

  public static final long MIB = 1L << 20;

  public ServerConfig {
    Objects.requireNonNull(host, "host");
    servedModelName = servedModelName == null ? "" : servedModelName;
    fetchAllow = List.copyOf(fetchAllow);
    requestLog = requestLog == null ? "" : requestLog;
    require(port >= 0 && port <= 65535, "port must be in 0..65535, got " + port);
    require(maxBodyBytes >= 1024, "max body size must be at least 1 KiB, got " + maxBodyBytes);
    require(maxImageBytes >= 1 && maxImageBytes <= Integer.MAX_VALUE - 8,
        "max image size must be in 1..2 GiB, got " + maxImageBytes);
    require(maxImagePixels >= 1 && maxImagePixels <= Integer.MAX_VALUE / 4,
        "max image pixels must be in 1.." + Integer.MAX_VALUE / 4 + ", got " + maxImagePixels);
    require(maxImages >= 0, "max images must be >= 0, got " + maxImages);
    require(maxTokensLimit >= 1, "max tokens limit must be >= 1, got " + maxTokensLimit);
    require(maxPixels >= 0, "max pixels must be >= 0 (0 = the checkpoint's), got " + maxPixels);
    require(queueSize >= 0, "queue size must be >= 0, got " + queueSize);
    require(requestTimeout.isPositive(), "request timeout must be positive, got " + requestTimeout);
    require(!shutdownGrace.isNegative(), "shutdown grace must be >= 0, got " + shutdownGrace);
    require(fetchTimeout.isPositive(), "fetch timeout must be positive, got " + fetchTimeout);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** The defaults: loopback on 8080, 20 MiB bodies, 8 images, 50 MP, 16 waiting, 10 min timeout. */
  public static ServerConfig defaults() {
    return new ServerConfig("127.0.0.1", 8080, "", 20 * MIB, 20 * MIB, 50_000_000L, 8, 16384, 0, 16,
        Duration.ofMinutes(10), Duration.ofSeconds(30), true, Duration.ofSeconds(10), List.of(), "-");
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(host, newPort, servedModelName, maxBodyBytes, maxImageBytes, maxImagePixels,
        maxImages, maxTokensLimit, maxPixels, queueSize, requestTimeout, shutdownGrace, fetchImageUrls,
        fetchTimeout, fetchAllow, requestLog);
  }
}
