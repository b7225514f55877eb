package dev.glance.server.metrics;

import dev.glance.engine.runtime.BatchScheduler;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The server's Prometheus metrics, in a registry of its own (no global state): requests by route
 * and status; histograms of end-to-end latency, queue time, time to first token, time per output
 * token, and the engine's preprocessing, vision and prefill stages; counters of prompt, image and
 * completion tokens, of flagged requests and of cache hits and misses; gauges of waiting and running requests.
 */
public final class ServerMetrics {
  /** Latency buckets from 5 ms to 10 min, in seconds. */
  private static final double[] LATENCY = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
      120, 300, 600};
  /** Per-token buckets from 0.5 ms to 5 s, in seconds. */
  private static final double[] PER_TOKEN = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5,
      1, 2.5, 5};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Counter requests;
  private final Histogram duration;
  private final Histogram queueTime;
  private final Histogram timeToFirstToken;
  private final Histogram timePerOutputToken;
  private final Histogram preprocess;
  private final Histogram vision;
  private final Histogram prefill;
  private final Counter promptTokens;
  private final Counter imageTokens;
  private final Counter completionTokens;
  private final Counter flagged;
  private final Counter cacheHits;
  private final Counter cacheMisses;
  private final Counter prefixTokens;

  public ServerMetrics() {
    requests = Counter.builder().name("glance_http_requests_total")
        .help("HTTP requests answered, by route and status").labelNames("route", "status").register(registry);
    duration = histogram("glance_request_duration_seconds", "End-to-end time of inference requests", LATENCY,
        "route");
    queueTime = histogram("glance_queue_time_seconds", "Time a request waited for the engine", LATENCY);
    timeToFirstToken = histogram("glance_time_to_first_token_seconds",
        "Time from a request's arrival to its first generated text", LATENCY);
    timePerOutputToken = histogram("glance_time_per_output_token_seconds",
        "Decode time per generated token after the first", PER_TOKEN);
    preprocess = histogram("glance_preprocess_seconds",
        "Image resizing, patching and prompt tokenization time per request", LATENCY);
    vision = histogram("glance_vision_seconds", "Vision encoder time per request", LATENCY);
    prefill = histogram("glance_prefill_seconds", "Prompt prefill time per request", LATENCY);
    promptTokens = Counter.builder().name("glance_prompt_tokens_total")
        .help("Prompt tokens processed, image tokens included").register(registry);
    imageTokens = Counter.builder().name("glance_image_tokens_total")
        .help("Image placeholder tokens processed (part of the prompt tokens)").register(registry);
    completionTokens = Counter.builder().name("glance_completion_tokens_total")
        .help("Tokens generated").register(registry);
    flagged = Counter.builder().name("glance_flagged_requests_total")
        .help("Requests the request log flags for a look, by flag").labelNames("flag").register(registry);
    cacheHits = Counter.builder().name("glance_cache_hits_total")
        .help("Cache lookups answered from the cache, by cache (vision: per image; response: per request;"
            + " prefix: per generation that reused at least one cached KV block)")
        .labelNames("cache").register(registry);
    cacheMisses = Counter.builder().name("glance_cache_misses_total")
        .help("Cache lookups that had to compute, by cache (vision: per image; response: per request;"
            + " prefix: per generation that prefilled its whole prompt)")
        .labelNames("cache").register(registry);
    prefixTokens = Counter.builder().name("glance_prefix_cached_tokens_total")
        .help("Prompt tokens whose keys and values came from the prefix cache instead of prefill")
        .register(registry);
    for (String cache : new String[] {"vision", "response", "prefix"}) {
      cacheHits.labelValues(cache);
      cacheMisses.labelValues(cache);
    }
  }

  private Histogram histogram(String name, String help, double[] buckets, String... labels) {
    return Histogram.builder().name(name).help(help).unit(null).classicOnly().classicUpperBounds(buckets)
        .labelNames(labels).register(registry);
  }

  /** Registers gauges read at scrape time from the inference service. */
  public void gauges(IntSupplier waiting, IntSupplier running) {
    GaugeWithCallback.builder().name("glance_requests_waiting")
        .help("Requests admitted and waiting for the engine").callback(cb -> cb.call(waiting.getAsInt()))
        .register(registry);
    GaugeWithCallback.builder().name("glance_requests_running")
        .help("Requests the engine is running").callback(cb -> cb.call(running.getAsInt()))
        .register(registry);
  }

  /**
   * Registers gauges of the engine's KV block pool, read at scrape time: blocks by state (used by
   * running sequences, cached prompt prefixes, free) and positions per block. Nothing is exported
   * while the service has no pool.
   */
  public void kvGauges(Supplier<Optional<BatchScheduler.KvUsage>> usage) {
    GaugeWithCallback.builder().name("glance_kv_blocks")
        .help("KV cache blocks of the engine's pool by state: used (running sequences), cached (prompt"
            + " prefixes kept for reuse, evictable), free")
        .labelNames("state")
        .callback(cb -> usage.get().ifPresent(u -> {
          cb.call(u.usedBlocks(), "used");
          cb.call(u.cachedBlocks(), "cached");
          cb.call(u.totalBlocks() - u.usedBlocks() - u.cachedBlocks(), "free");
        }))
        .register(registry);
    GaugeWithCallback.builder().name("glance_kv_block_positions")
        .help("Token positions per KV cache block")
        .callback(cb -> usage.get().ifPresent(u -> cb.call(u.blockTokens())))
        .register(registry);
  }

  public void request(String route, int status) {
    requests.labelValues(route, Integer.toString(status)).inc();
  }

  public void duration(String route, double seconds) {
    duration.labelValues(route).observe(seconds);
  }

  public void queued(double seconds) {
    queueTime.observe(seconds);
  }

  public void firstToken(double seconds) {
    timeToFirstToken.observe(seconds);
  }

  /** Records a finished generation's stages (milliseconds) and token counts. */
  public void generation(double preprocessMs, double visionMs, double prefillMs, double decodeMs,
      int prompt, int image, int completion) {
    preprocess.observe(preprocessMs / 1000);
    if (image > 0) {
      vision.observe(visionMs / 1000);
    }
    prefill.observe(prefillMs / 1000);
    if (completion > 1) {
      timePerOutputToken.observe(decodeMs / 1000 / (completion - 1));
    }
    promptTokens.inc(prompt);
    imageTokens.inc(image);
    completionTokens.inc(completion);
  }

  /** Counts one lookup of {@code cache} ("vision" or "response"). */
  public void cache(String cache, boolean hit) {
    (hit ? cacheHits : cacheMisses).labelValues(cache).inc();
  }

  /** Counts a generation's prefix-cache lookup: a hit when some prompt tokens came from cached blocks. */
  public void prefixCache(int cachedTokens) {
    (cachedTokens > 0 ? cacheHits : cacheMisses).labelValues("prefix").inc();
    prefixTokens.inc(cachedTokens);
  }

  /** Counts a generation's vision-embedding lookups: one per image. */
  public void visionCache(int hits, int misses) {
    cacheHits.labelValues("vision").inc(hits);
    cacheMisses.labelValues("vision").inc(misses);
  }

  /**
   * Counts the tokens of a request the response cache answered: its usage is the same as a fresh
   * answer's, but no engine stage ran, so the stage histograms are left alone.
   */
  public void cachedGeneration(int prompt, int image, int completion) {
    promptTokens.inc(prompt);
    imageTokens.inc(image);
    completionTokens.inc(completion);
  }

  public void flag(String flag) {
    flagged.labelValues(flag).inc();
  }

  public String contentType() {
    return writer.getContentType();
  }

  public void scrape(OutputStream out) throws IOException {
    writer.write(out, registry.scrape());
  }
}
