package dev.glance.server.security;

import java.net.InetAddress;
import java.util.List;

/** The address ranges allowed to call Glance; an empty list allows everyone. */
public record IpAllowList(List<CidrRange> ranges) {
  public IpAllowList {
    ranges = List.copyOf(ranges);
  }

  public static IpAllowList everyone() {
    return new IpAllowList(List.of());
  }

  public static IpAllowList parse(List<String> specs) {
    return new IpAllowList(specs.stream().map(CidrRange::parse).toList());
  }

  public boolean allows(InetAddress client) {
    return ranges.isEmpty() || ranges.stream().anyMatch(r -> r.contains(client));
  }
}
