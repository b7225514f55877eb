package dev.glance.server.usage;

import dev.glance.engine.runtime.GenerationResult;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Prices a finished or failed request with the {@link CostModel} and writes it to the {@link
 * UsageLedger}, waiting until the row is durable: the server calls it before it completes a
 * response, so every answered request is in the ledger even if the process dies right after.
 * A request that never reached the engine has no tokens and costs nothing; one that was stopped
 * (timeout, client gone) is charged for the engine time it used.
 */
public final class UsageMeter {
  private final UsageLedger ledger;
  private final CostModel cost;
  private final Duration writeTimeout;

  public UsageMeter(UsageLedger ledger, CostModel cost, Duration writeTimeout) {
    this.ledger = ledger;
    this.cost = cost;
    this.writeTimeout = writeTimeout;
  }

  public CostModel costModel() {
    return cost;
  }

  /**
   * What the server knows of one request when it ends.
   *
   * @param requestId the id the client was given (X-Request-Id, the response's id)
   * @param arrived when the request arrived (its ledger time)
   * @param keyId the caller's key, or null when keys are off
   * @param clientIp the client's address (after trusted proxies)
   * @param route the API route
   * @param model the served model's name
   * @param result what the engine produced, if it ran (also for a stopped generation)
   * @param queueMs time waiting for the engine
   * @param latencyMs arrival to this moment
   * @param status the HTTP status the client gets (499: it went away)
   */
  public record Ending(String requestId, Instant arrived, String keyId, String clientIp, String route, String model,
      Optional<GenerationResult> result, double queueMs, double latencyMs, int status) {}

  /** Prices and records {@code e}; throws {@link dev.glance.engine.GlanceException.Storage} if it cannot be written in time. */
  public UsageRecord record(Ending e) {
    UsageRecord r = price(e);
    ledger.recordAndWait(r, writeTimeout);
    return r;
  }

  /** The ledger row for {@code e}, priced but not written. */
  public UsageRecord price(Ending e) {
    int imageTokens = 0;
    int promptTokens = 0;
    int completionTokens = 0;
    double vision = 0;
    double prefill = 0;
    double decode = 0;
    double busy = 0;
    int images = 0;
    String hashes = null;
    String finish = null;
    int cachedTokens = 0;
    if (e.result().isPresent()) {
      GenerationResult g = e.result().get();
      imageTokens = g.imageTokens();
      promptTokens = g.promptTokens();
      completionTokens = g.completionTokens();
      cachedTokens = g.cachedTokens();
      var t = g.timings();
      vision = t.visionMs();
      prefill = t.prefillMs();
      decode = t.decodeMs();
      // Preprocessing (resize, patches, template, tokenizer) runs on the engine thread too.
      busy = t.preprocessMs() + vision + prefill + decode;
      images = g.imageHashes().size();
      hashes = images == 0 ? null : String.join(",", g.imageHashes());
      finish = g.finishReason().name().toLowerCase(Locale.ROOT);
    }
    return new UsageRecord(e.requestId(), e.arrived(), e.keyId(), e.clientIp(), e.route(), e.model(), images, hashes,
        promptTokens - imageTokens, imageTokens, cachedTokens, completionTokens, e.queueMs(), vision, prefill, decode, busy,
        e.latencyMs(), e.status(), finish, cost.charge(busy, promptTokens, completionTokens),
        cost.referenceCharge(promptTokens, completionTokens), cost.currency());
  }
}
