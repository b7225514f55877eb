package dev.glance.server.log;

import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.runtime.GenerationResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What one request did, collected as it goes by the thread that serves it, and turned into its
 * {@link RequestRecord} when the response is complete. Not thread-safe: one request, one thread.
 */
public final class RequestTrace {
  private final Instant arrived = Instant.now();
  private final long startNanos = System.nanoTime();
  private final String method;
  private String route;
  private String client;
  private String keyId;
  private String id;
  private String model;
  private Boolean stream;
  private final List<RequestRecord.Image> images = new ArrayList<>();
  private Integer maxTokens;
  private Long queueNanos;
  private Long firstTokenNanos;
  private GenerationResult result;
  private RequestRecord.Error error;
  private final Set<RequestRecord.Flag> flags = EnumSet.noneOf(RequestRecord.Flag.class);
  private Integer statusOverride;

  public RequestTrace(String method, String route, String client) {
    this.method = method;
    this.route = route;
    this.client = client;
  }

  public String route() {
    return route;
  }

  /** Names the route once the request matched one (metrics label and log field). */
  public void route(String value) {
    this.route = value;
  }

  public long startNanos() {
    return startNanos;
  }

  public Instant arrived() {
    return arrived;
  }

  /** The client's address; replaced by the forwarded one when a trusted proxy sent the request. */
  public String client() {
    return client;
  }

  public void client(String value) {
    this.client = value;
  }

  public String keyId() {
    return keyId;
  }

  /** The id of the API key the request was made with. */
  public void keyId(String value) {
    this.keyId = value;
  }

  public String id() {
    return id;
  }

  public void id(String value) {
    this.id = value;
  }

  public String model() {
    return model;
  }

  public void model(String value) {
    this.model = value;
  }

  public void stream(boolean value) {
    this.stream = value;
  }

  public void maxTokens(int value) {
    this.maxTokens = value;
  }

  public void image(String param, int width, int height, long bytes, String format, String sha256) {
    images.add(new RequestRecord.Image(param, width, height, bytes, format, sha256));
  }

  public void queued(long nanos) {
    this.queueNanos = nanos;
  }

  /** Milliseconds the request waited for the engine (0 before it started). */
  public double queueMillis() {
    return queueNanos == null ? 0 : queueNanos / 1e6;
  }

  /** Records the first generated text, once; returns the time since arrival, in nanoseconds. */
  public long firstToken() {
    if (firstTokenNanos == null) {
      firstTokenNanos = System.nanoTime() - startNanos;
    }
    return firstTokenNanos;
  }

  public Long firstTokenNanos() {
    return firstTokenNanos;
  }

  public void result(GenerationResult r) {
    this.result = r;
    if (r.nonFiniteLogitSteps() > 0) {
      flags.add(RequestRecord.Flag.NAN_LOGITS);
    }
    if (r.finishReason() == FinishReason.LENGTH || r.finishReason() == FinishReason.CONTEXT) {
      flags.add(RequestRecord.Flag.MAX_TOKENS);
    }
    if (RepetitionCheck.endsInLoop(r.tokenIds())) {
      flags.add(RequestRecord.Flag.REPETITION_LOOP);
    }
  }

  /** What the engine produced, if it ran (a stopped generation included). */
  public java.util.Optional<GenerationResult> result() {
    return java.util.Optional.ofNullable(result);
  }

  /** Milliseconds since the request arrived. */
  public double elapsedMillis() {
    return (System.nanoTime() - startNanos) / 1e6;
  }

  public void error(String type, String code, String message) {
    this.error = new RequestRecord.Error(type, code, message);
    if ("nan_logits".equals(code)) {
      flags.add(RequestRecord.Flag.NAN_LOGITS);
    }
  }

  public void flag(RequestRecord.Flag flag) {
    flags.add(flag);
  }

  /** Records a status the HTTP layer never sent, such as 499 for a client that went away. */
  public void status(int status) {
    this.statusOverride = status;
  }

  public Set<RequestRecord.Flag> flags() {
    return Set.copyOf(flags);
  }

  public RequestRecord toRecord(int httpStatus) {
    double total = elapsedMillis();
    RequestRecord.Timings timings;
    if (result != null) {
      var t = result.timings();
      timings = new RequestRecord.Timings(ms(queueNanos), t.preprocessMs(), t.visionMs(), t.prefillMs(),
          t.decodeMs(), ms(firstTokenNanos), total);
    } else {
      timings = new RequestRecord.Timings(ms(queueNanos), null, null, null, null, ms(firstTokenNanos), total);
    }
    List<String> flagNames = flags.stream().map(RequestRecord.Flag::wire).toList();
    return new RequestRecord(arrived.toString(), id, method, route,
        statusOverride != null ? statusOverride : httpStatus, client, keyId, model, stream,
        images.isEmpty() ? null : List.copyOf(images),
        result == null ? null : result.promptTokens(),
        result == null ? null : result.imageTokens(),
        result == null ? null : result.cachedTokens(),
        result == null ? null : result.completionTokens(),
        maxTokens,
        result == null ? null : result.finishReason().name().toLowerCase(java.util.Locale.ROOT),
        timings, error, flagNames.isEmpty() ? null : flagNames);
  }

  private static Double ms(Long nanos) {
    return nanos == null ? null : nanos / 1e6;
  }
}
