package dev.glance.server.security;

import java.util.List;

/**
 * Who may call Glance: whether keys are required even when none exists yet, the client address
 * ranges allowed, the proxies whose X-Forwarded-For is believed, the limits applied per client IP
 * when keys are off, and the names of keys allowed on admin routes (usage reports, metrics when
 * {@code metricsNeedAdmin}).
 */
public record AccessSettings(
    boolean requireKeys,
    IpAllowList allowList,
    List<CidrRange> trustedProxies,
    KeyLimits perIpLimits,
    List<String> adminKeys,
    boolean metricsNeedAdmin) {

  public AccessSettings {
    trustedProxies = List.copyOf(trustedProxies);
    adminKeys = List.copyOf(adminKeys);
  }

  /** The same settings with keys required or not (the --require-keys flag over settings.json). */
  public AccessSettings withRequireKeys(boolean required) {
    return new AccessSettings(required, allowList, trustedProxies, perIpLimits, adminKeys, metricsNeedAdmin);
  }

  /** Open to everyone, no limits: the single-user default on loopback. */
  public static AccessSettings open() {
    return new AccessSettings(false, IpAllowList.everyone(), List.of(), KeyLimits.none(), List.of(), false);
  }
}
