package dev.glance.server.fetch;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which addresses the server may fetch image URLs from. Public unicast addresses are allowed;
 * loopback, private, link-local (where cloud metadata services live), carrier-grade NAT,
 * unique-local, multicast, reserved and unspecified addresses are refused, also when written as
 * IPv4-mapped or NAT64 IPv6 addresses, unless an allow-list entry (a CIDR block, an address or a
 * host name) permits them. Checked on every resolved address of every connection, redirects
 * included, so a public name that resolves to an internal address is refused too.
 */
public final class AddressPolicy {

  private record Block(byte[] network, int prefix) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Block> allowedBlocks = new ArrayList<>();
  private final List<String> allowedHosts = new ArrayList<>();

  /**
   * @param allow entries such as {@code 127.0.0.1}, {@code 10.0.0.0/8}, {@code ::1/128} or
   *     {@code images.internal}
   * @throws IllegalArgumentException naming an entry that is none of these
   */
  public AddressPolicy(List<String> allow) {
    for (String entry : allow) {
      String e = entry.strip();
      if (e.isEmpty()) {
        continue;
      }
      Optional<Block> block = parseBlock(e);
      if (block.isPresent()) {
        allowedBlocks.add(block.get());
      } else if (e.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
        allowedHosts.add(e.toLowerCase(Locale.ROOT));
      } else {
        throw new IllegalArgumentException("fetch allow-list entry '" + entry
            + "' is not an address, a CIDR block or a host name");
      }
    }
  }

  /** Refuses everything internal. */
  public static AddressPolicy strict() {
    return new AddressPolicy(List.of());
  }

  /** Whether a host name is allow-listed as such (all its addresses are then allowed). */
  public boolean hostAllowed(String host) {
    return allowedHosts.contains(host.toLowerCase(Locale.ROOT));
  }

  /**
   * Why {@code address} may not be fetched from, e.g. "a loopback address"; empty when it may.
   */
  public Optional<String> refusal(InetAddress address) {
    byte[] raw = address.getAddress();
    for (Block b : allowedBlocks) {
      if (b.contains(raw)) {
        return Optional.empty();
      }
    }
    return internalKind(address);
  }

  private static Optional<String> internalKind(InetAddress a) {
    if (a instanceof Inet6Address) {
      byte[] b = a.getAddress();
      Optional<InetAddress> embedded = embeddedIpv4(b);
      if (embedded.isPresent()) {
        return internalKind(embedded.get()).map(k -> k + " (inside an IPv6 address)");
      }
      if ((b[0] & 0xFE) == 0xFC) {
        return Optional.of("a unique-local address");
      }
    }
    if (a.isAnyLocalAddress()) {
      return Optional.of("an unspecified address");
    }
    if (a.isLoopbackAddress()) {
      return Optional.of("a loopback address");
    }
    if (a.isLinkLocalAddress()) {
      return Optional.of("a link-local address (where cloud metadata services answer)");
    }
    if (a.isSiteLocalAddress()) {
      return Optional.of("a private address");
    }
    if (a.isMulticastAddress()) {
      return Optional.of("a multicast address");
    }
    if (a instanceof Inet4Address) {
      byte[] b = a.getAddress();
      int first = b[0] & 0xFF;
      int second = b[1] & 0xFF;
      if (first == 0) {
        return Optional.of("a 'this network' address");
      }
      if (first == 100 && second >= 64 && second < 128) {
        return Optional.of("a carrier-grade NAT address");
      }
      if (first == 192 && second == 0 && (b[2] & 0xFF) == 0) {
        return Optional.of("an IETF protocol address");
      }
      if (first == 198 && (second == 18 || second == 19)) {
        return Optional.of("a benchmarking address");
      }
      if (first >= 240) {
        return Optional.of("a reserved address");
      }
    }
    return Optional.empty();
  }

  /** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), compatible or NAT64 address. */
  private static Optional<InetAddress> embeddedIpv4(byte[] b) {
    boolean zeros10 = true;
    for (int i = 0; i < 10; i++) {
      zeros10 &= b[i] == 0;
    }
    boolean mapped = zeros10 && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF;
    boolean compatible = zeros10 && b[10] == 0 && b[11] == 0 && !(allZero(b, 12, 15) && (b[15] == 0 || b[15] == 1));
    boolean nat64 = (b[0] & 0xFF) == 0x00 && (b[1] & 0xFF) == 0x64 && (b[2] & 0xFF) == 0xFF
        && (b[3] & 0xFF) == 0x9B && allZero(b, 4, 12);
    if (!mapped && !compatible && !nat64) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static Optional<Block> parseBlock(String entry) {
    String addr = entry;
    int prefix = -1;
    int slash = entry.indexOf('/');
    if (slash >= 0) {
      addr = entry.substring(0, slash);
      try {
        prefix = Integer.parseInt(entry.substring(slash + 1));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    // Only literal addresses: never let an allow-list entry trigger a DNS lookup here.
    boolean v4 = addr.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    boolean v6 = addr.contains(":") && addr.matches("[0-9A-Fa-f:.]+");
    if (!v4 && !v6) {
      return Optional.empty();
    }
    if (v4) {
      for (String octet : addr.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return Optional.empty();
        }
      }
    }
    try {
      byte[] raw = InetAddress.getByName(addr).getAddress();
      int bits = raw.length * 8;
      if (prefix < 0) {
        prefix = bits;
      }
      if (prefix > bits) {
        return Optional.empty();
      }
      return Optional.of(new Block(raw, prefix));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }
}
