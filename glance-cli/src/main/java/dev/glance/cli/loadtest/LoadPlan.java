package dev.glance.cli.loadtest;

import java.net.URI;
import java.time.Duration;

/**
 * What a load test does: {@code clients} closed-loop clients against {@code server}, until
 * {@code duration} has passed or {@code maxRequests} were sent; a {@code repeatFraction} of the
 * requests reuse one of {@code distinctImages} images and questions (cache hits), the rest carry a
 * fresh random image.
 */
public record LoadPlan(URI server, String model, int clients, Duration duration, int maxRequests,
    double repeatFraction, int distinctImages, int imageSize, int maxTokens, String apiKey, long seed) {

  public LoadPlan {
    if (clients < 1 || clients > 1024) {
      throw new IllegalArgumentException("--clients must be 1..1024");
    }
    if (duration.isNegative() || duration.isZero() || duration.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("--duration must be between 1 s and 1 h");
    }
    if (maxRequests < 1) {
      throw new IllegalArgumentException("--requests must be at least 1");
    }
    if (repeatFraction < 0 || repeatFraction > 1) {
      throw new IllegalArgumentException("--repeat must be between 0 and 1");
    }
    if (distinctImages < 1 || imageSize < 28 || imageSize > 4096 || maxTokens < 1) {
      throw new IllegalArgumentException("--images >= 1, --image-size 28..4096, --max-tokens >= 1");
    }
  }
}
