package dev.glance.server.security;

import dev.glance.server.usage.UsageReport;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The one place that decides whether a request may run: the IP allow-list, then the API key
 * (when any key exists or keys are required), then the key's budget, then its rate limits (or the
 * per-IP limits when keys are off). Everything but the tokens-per-minute reservation is decided
 * before the request body is read; that reservation ({@link #reserve}) needs the parsed request's
 * estimate and is made before any image is fetched or decoded.
 */
public final class AccessControl {
  private final AccessSettings settings;
  private final KeyStore keys;
  private final UsageReport usage;
  private final RateLimiter limiter;
  private final ClientAddressResolver addresses;
  private final Clock clock;

  public AccessControl(AccessSettings settings, KeyStore keys, UsageReport usage, RateLimiter limiter, Clock clock) {
    this.settings = settings;
    this.keys = keys;
    this.usage = usage;
    this.limiter = limiter;
    this.addresses = new ClientAddressResolver(settings.trustedProxies());
    this.clock = clock;
  }

  /** Who is calling: the client address and, when keys are in use, their key. */
  public record Caller(InetAddress client, Optional<ApiKey> key) {
    public Optional<String> keyId() {
      return key.map(ApiKey::id);
    }

    String principal() {
      return key.map(k -> "key:" + k.id()).orElse("ip:" + client.getHostAddress());
    }
  }

  /** The outcome of a check. */
  public sealed interface Decision permits Admitted, Refused {}

  /** Go ahead; close the permit (after settling tokens) when the request ends. */
  public record Admitted(Caller caller, RateLimiter.Permit permit) implements Decision {}

  /**
   * Refused with an HTTP status, an OpenAI-style error type and code, a sentence saying why, and
   * for 429 how many seconds to wait.
   */
  public record Refused(int status, String type, String code, String message, OptionalLong retryAfterSeconds)
      implements Decision {}

  /** The client's address: the peer, or what a trusted proxy says it forwarded. */
  public InetAddress client(InetAddress peer, String forwardedFor) {
    return addresses.resolve(peer, forwardedFor);
  }

  /** The allow-list alone (for routes that need no key, such as the web page); empty = allowed. */
  public Optional<Refused> checkAddress(InetAddress peer, String forwardedFor) {
    InetAddress client = client(peer, forwardedFor);
    if (!settings.allowList().allows(client)) {
      return Optional.of(refused(403, "permission_denied", "ip_not_allowed",
          "client address " + client.getHostAddress() + " is not in the allow-list"));
    }
    return Optional.empty();
  }

  /** Identifies the caller without admitting a request (admin routes, usage queries). */
  public Decision identify(InetAddress peer, String forwardedFor, String authorization, String apiKeyHeader) {
    Optional<Refused> address = checkAddress(peer, forwardedFor);
    if (address.isPresent()) {
      return address.get();
    }
    InetAddress client = client(peer, forwardedFor);
    String secret = secret(authorization, apiKeyHeader);
    if (!keysOn()) {
      return new Admitted(new Caller(client, Optional.empty()), null);
    }
    if (secret == null) {
      return refused(401, "authentication_error", "missing_api_key",
          "an API key is required: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'");
    }
    Optional<ApiKey> key = keys.findBySecret(secret);
    if (key.isEmpty()) {
      return refused(401, "authentication_error", "invalid_api_key", "the API key is not valid");
    }
    Optional<String> unusable = key.get().unusableReason(clock.instant());
    if (unusable.isPresent()) {
      return refused(401, "authentication_error", "invalid_api_key", unusable.get());
    }
    return new Admitted(new Caller(client, key), null);
  }

  /** Identifies the caller and, if allowed, takes rate-limit permits for one inference request. */
  public Decision admit(InetAddress peer, String forwardedFor, String authorization, String apiKeyHeader,
      int estimatedTokens) {
    Decision who = identify(peer, forwardedFor, authorization, apiKeyHeader);
    if (!(who instanceof Admitted a)) {
      return who;
    }
    Caller caller = a.caller();
    KeyLimits limits = caller.key().map(k -> k.limits()).orElse(settings.perIpLimits());
    if (caller.key().isPresent() && limits.budget().isPresent()) {
      boolean month = limits.period() == KeyLimits.BudgetPeriod.MONTH;
      Instant start = UsageReport.periodStart(clock.instant(), month);
      double spent = usage.spentSince(caller.key().get().id(), start);
      if (spent >= limits.budget().getAsDouble()) {
        return refused(403, "insufficient_quota", "budget_exhausted", String.format(java.util.Locale.ROOT,
            "the key's budget of %.4f per %s is spent (%.4f used since %s)", limits.budget().getAsDouble(),
            month ? "month" : "day", spent, start));
      }
    }
    return switch (limiter.admit(caller.principal(), limits, estimatedTokens)) {
      case RateLimiter.Granted g -> new Admitted(caller, g.permit());
      case RateLimiter.Limited l -> tooMany(l);
    };
  }

  /**
   * Reserves an admitted request's token estimate, once its body has been read, against its
   * tokens-per-minute limit; empty when it fits, else the 429 to answer.
   */
  public Optional<Refused> reserve(Admitted admitted, int estimatedTokens) {
    return admitted.permit().reserve(estimatedTokens).map(AccessControl::tooMany);
  }

  private static Refused tooMany(RateLimiter.Limited l) {
    return new Refused(429, "rate_limit_error", "rate_limit_exceeded",
        l.message() + "; retry after " + l.retryAfterSeconds() + " s", OptionalLong.of(l.retryAfterSeconds()));
  }

  /** Whether an identified caller may use admin routes. */
  public boolean isAdmin(Caller caller) {
    if (!keysOn()) {
      return caller.client().isLoopbackAddress();
    }
    return caller.key().map(k -> settings.adminKeys().contains(k.name())).orElse(false);
  }

  /**
   * Whether callers need a key: required by configuration, or any key exists (read from the
   * database each time, so {@code glance keys create} on a running server turns keys on at once).
   */
  public boolean keysOn() {
    return settings.requireKeys() || keys.anyExists();
  }

  public AccessSettings settings() {
    return settings;
  }

  private static Refused refused(int status, String type, String code, String message) {
    return new Refused(status, type, code, message, OptionalLong.empty());
  }

  private static String secret(String authorization, String apiKeyHeader) {
    if (authorization != null) {
      String a = authorization.strip();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return a.substring(7).strip();
      }
    }
    return apiKeyHeader == null || apiKeyHeader.isBlank() ? null : apiKeyHeader.strip();
  }
}
