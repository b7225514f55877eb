package dev.glance.server.security;

import dev.glance.engine.GlanceException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 or IPv6 address range in CIDR notation ({@code 10.0.0.0/8}, {@code fd00::/8}); a bare
 * address is a range of one. IPv4-mapped IPv6 peers ({@code ::ffff:10.1.2.3}) match IPv4 ranges.
 */
public record CidrRange(byte[] network, int prefixLength, String text) {

  public static CidrRange parse(String text) {
    String s = text.strip();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    if (!looksLikeAddress(addr)) {
      throw bad(text, "not an IP address");
    }
    byte[] bytes = literal(addr, text);
    int bits = bytes.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw bad(text, "prefix length is not a number");
      }
      if (prefix < 0 || prefix > bits) {
        throw bad(text, "prefix length must be 0.." + bits);
      }
    }
    return new CidrRange(mask(bytes, prefix), prefix, s);
  }

  /** Whether {@code address} (raw bytes of an InetAddress) lies in this range. */
  public boolean contains(InetAddress address) {
    byte[] a = normalise(address.getAddress());
    if (a.length != network.length) {
      return false;
    }
    byte[] m = mask(a, prefixLength);
    return java.util.Arrays.equals(m, network);
  }

  /** IPv4-mapped IPv6 becomes IPv4 so one allow-list entry covers both spellings. */
  static byte[] normalise(byte[] a) {
    if (a.length == 16) {
      boolean mapped = a[10] == (byte) 0xff && a[11] == (byte) 0xff;
      for (int i = 0; i < 10 && mapped; i++) {
        mapped = a[i] == 0;
      }
      if (mapped) {
        return java.util.Arrays.copyOfRange(a, 12, 16);
      }
    }
    return a;
  }

  private static byte[] mask(byte[] a, int prefix) {
    byte[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.clamp(prefix - i * 8, 0, 8);
      out[i] = (byte) (out[i] & (0xff << (8 - keep)));
    }
    return out;
  }

  /** Only literals: never resolve a host name while parsing configuration. */
  private static boolean looksLikeAddress(String s) {
    return !s.isEmpty() && (s.contains(":") ? s.matches("[0-9A-Fa-f:.]+") : s.matches("[0-9.]+"));
  }

  private static byte[] literal(String addr, String text) {
    try {
      return normalise(InetAddress.getByName(addr).getAddress());
    } catch (UnknownHostException e) {
      throw bad(text, "not an IP address");
    }
  }

  private static GlanceException bad(String text, String why) {
    return new GlanceException.BadRequest("invalid address range '" + text + "': " + why);
  }

  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CidrRange c && c.prefixLength == prefixLength && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + prefixLength;
  }
}
