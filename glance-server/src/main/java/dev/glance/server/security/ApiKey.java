package dev.glance.server.security;

import java.time.Instant;
import java.util.Optional;

/**
 * A stored API key, without its secret (only a hash is kept). Limits are optional: an absent one
 * means no limit of that kind for this key.
 */
public record ApiKey(
    String id,
    String name,
    String prefix,
    Instant created,
    Optional<Instant> expires,
    Optional<Instant> revoked,
    KeyLimits limits) {

  /** Why a presented key may not be used at {@code now}, or empty when it may. */
  public Optional<String> unusableReason(Instant now) {
    if (revoked.isPresent()) {
      return Optional.of("API key '" + name + "' was revoked");
    }
    if (expires.isPresent() && !now.isBefore(expires.get())) {
      return Optional.of("API key '" + name + "' expired at " + expires.get());
    }
    return Optional.empty();
  }
}
