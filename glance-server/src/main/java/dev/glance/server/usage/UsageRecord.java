package dev.glance.server.usage;

import java.time.Instant;

/**
 * One finished or failed request as the ledger keeps it. {@code imageHashes} are the SHA-256 hashes
 * of the images' decoded pixels, comma-joined in prompt order (null when none was decoded). Token
 * counts: {@code textTokens} are the prompt's non-image tokens, {@code imageTokens} its image
 * placeholders, {@code cachedTokens} the prompt tokens served from the prefix KV cache (part of
 * the prompt, not prefilled); busyMs is the engine time this request
 * was charged for, latencyMs its end-to-end time; cost is what this request was charged, in
 * {@code currency}, and {@code referenceCost} what the same tokens would cost at the configured
 * commercial API prices.
 */
public record UsageRecord(
    String requestId,
    Instant time,
    String keyId,
    String clientIp,
    String route,
    String model,
    int imageCount,
    String imageHashes,
    int textTokens,
    int imageTokens,
    int cachedTokens,
    int completionTokens,
    double queueMs,
    double visionMs,
    double prefillMs,
    double decodeMs,
    double busyMs,
    double latencyMs,
    int status,
    String finishReason,
    double cost,
    double referenceCost,
    String currency) {

  public int promptTokens() {
    return textTokens + imageTokens;
  }
}
