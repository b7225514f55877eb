package dev.glance.cli.loadtest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.io.Json;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The figures of a finished load test, as a table or as JSON. */
public record LoadReport(LoadPlan plan, double seconds, List<RequestOutcome> outcomes) {

  public long ok() {
    return outcomes.stream().filter(o -> o.status() == 200).count();
  }

  public double requestsPerSecond() {
    return ok() / seconds;
  }

  public double tokensPerSecond() {
    return outcomes.stream().filter(o -> o.status() == 200).mapToLong(RequestOutcome::completionTokens).sum() / seconds;
  }

  public Map<Integer, Long> byStatus() {
    Map<Integer, Long> m = new TreeMap<>();
    outcomes.forEach(o -> m.merge(o.status(), 1L, Long::sum));
    return m;
  }

  public double percentile(boolean ttft, double q) {
    double[] v = outcomes.stream().filter(o -> o.status() == 200)
        .mapToDouble(o -> ttft ? o.ttftMs() : o.latencyMs()).sorted().toArray();
    if (v.length == 0) {
      return 0;
    }
    return v[Math.clamp((int) Math.ceil(q * v.length) - 1, 0, v.length - 1)];
  }

  /** Vision-cache hit rate among successful requests. */
  public double visionHitRate() {
    long ok = ok();
    return ok == 0 ? 0 : outcomes.stream().filter(o -> o.status() == 200 && o.visionCacheHit()).count() / (double) ok;
  }

  /** Response-cache hit rate among successful requests. */
  public double responseHitRate() {
    long ok = ok();
    return ok == 0 ? 0 : outcomes.stream().filter(o -> o.status() == 200 && o.responseCacheHit()).count() / (double) ok;
  }

  /** Fraction of successful requests that had prompt tokens served from the prefix KV cache. */
  public double prefixHitRate() {
    long ok = ok();
    return ok == 0 ? 0 : outcomes.stream().filter(o -> o.status() == 200 && o.cachedPromptTokens() > 0).count() / (double) ok;
  }

  /** Prompt tokens served from the prefix KV cache, summed over successful requests. */
  public long cachedPromptTokens() {
    return outcomes.stream().filter(o -> o.status() == 200).mapToLong(RequestOutcome::cachedPromptTokens).sum();
  }

  /** Median time to first token of repeated and of new images, to show what the caches save. */
  public double medianTtft(boolean repeated) {
    double[] v = outcomes.stream().filter(o -> o.status() == 200 && o.repeated() == repeated)
        .mapToDouble(RequestOutcome::ttftMs).sorted().toArray();
    return v.length == 0 ? 0 : v[v.length / 2];
  }

  public String toJson() {
    ObjectNode o = Json.mapper().createObjectNode();
    o.put("server", plan.server().toString());
    o.put("clients", plan.clients());
    o.put("seconds", seconds);
    o.put("requests", outcomes.size());
    o.put("ok", ok());
    o.put("requests_per_second", requestsPerSecond());
    o.put("generated_tokens_per_second", tokensPerSecond());
    ObjectNode lat = o.putObject("latency_ms");
    lat.put("p50", percentile(false, 0.5));
    lat.put("p95", percentile(false, 0.95));
    lat.put("p99", percentile(false, 0.99));
    ObjectNode ttft = o.putObject("ttft_ms");
    ttft.put("p50", percentile(true, 0.5));
    ttft.put("p95", percentile(true, 0.95));
    ttft.put("p99", percentile(true, 0.99));
    ttft.put("median_repeated_image", medianTtft(true));
    ttft.put("median_new_image", medianTtft(false));
    ObjectNode status = o.putObject("by_status");
    byStatus().forEach((k, v) -> status.put(String.valueOf(k), v));
    o.put("vision_cache_hit_rate", visionHitRate());
    o.put("prefix_cache_hit_rate", prefixHitRate());
    o.put("cached_prompt_tokens", cachedPromptTokens());
    o.put("response_cache_hit_rate", responseHitRate());
    return o.toString();
  }

  public String toTable() {
    StringBuilder s = new StringBuilder();
    s.append(String.format("%d clients, %.1f s, %d requests (%d ok)%n", plan.clients(), seconds, outcomes.size(), ok()));
    s.append(String.format("requests/s %.2f, generated tokens/s %.1f%n", requestsPerSecond(), tokensPerSecond()));
    s.append(String.format("latency ms p50 %.0f p95 %.0f p99 %.0f%n", percentile(false, .5), percentile(false, .95),
        percentile(false, .99)));
    s.append(String.format("ttft ms    p50 %.0f p95 %.0f p99 %.0f (median: repeated image %.0f, new image %.0f)%n",
        percentile(true, .5), percentile(true, .95), percentile(true, .99), medianTtft(true), medianTtft(false)));
    s.append("by status ").append(byStatus()).append(String.format(
        ", cache hit rates: vision %.2f, prefix %.2f (%d prompt tokens), response %.2f%n",
        visionHitRate(), prefixHitRate(), cachedPromptTokens(), responseHitRate()));
    return s.toString();
  }

}
