package dev.glance.server.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Finds the client's address. X-Forwarded-For is believed only when the TCP peer is a configured
 * trusted proxy, and then read from the right: the first hop that is not itself a trusted proxy
 * is the client. A forged header from anyone else is ignored.
 */
public record ClientAddressResolver(List<CidrRange> trustedProxies) {
  public ClientAddressResolver {
    trustedProxies = List.copyOf(trustedProxies);
  }

  public InetAddress resolve(InetAddress peer, String forwardedFor) {
    if (forwardedFor == null || forwardedFor.isBlank() || !trusted(peer)) {
      return peer;
    }
    String[] hops = forwardedFor.split(",");
    InetAddress client = peer;
    for (int i = hops.length - 1; i >= 0; i--) {
      InetAddress hop = literal(hops[i].strip());
      if (hop == null) {
        // An unparseable hop: stop at the last address we could trust the proxies to have seen.
        return client;
      }
      client = hop;
      if (!trusted(hop)) {
        return hop;
      }
    }
    return client;
  }

  private boolean trusted(InetAddress a) {
    return trustedProxies.stream().anyMatch(r -> r.contains(a));
  }

  private static InetAddress literal(String s) {
    String host = s;
    if (host.startsWith("[") && host.contains("]")) {
      host = host.substring(1, host.indexOf(']'));
    } else if (host.chars().filter(c -> c == ':').count() == 1) {
      host = host.substring(0, host.indexOf(':')); // IPv4 with a port
    }
    if (!(host.contains(":") ? host.matches("[0-9A-Fa-f:.]+") : host.matches("[0-9.]+"))) {
      return null;
    }
    try {
      return InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
