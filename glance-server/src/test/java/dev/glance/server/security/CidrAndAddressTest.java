package dev.glance.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class CidrAndAddressTest {
  static InetAddress ip(String s) throws Exception {
    return InetAddress.getByName(s);
  }

  @Test
  void ipv4Ranges() throws Exception {
    CidrRange r = CidrRange.parse("10.1.0.0/16");
    assertTrue(r.contains(ip("10.1.255.3")));
    assertFalse(r.contains(ip("10.2.0.1")));
    assertTrue(CidrRange.parse("0.0.0.0/0").contains(ip("8.8.8.8")));
    assertTrue(CidrRange.parse("192.168.1.7").contains(ip("192.168.1.7")));
    assertFalse(CidrRange.parse("192.168.1.7").contains(ip("192.168.1.8")));
    assertTrue(CidrRange.parse("172.16.0.0/12").contains(ip("172.31.200.1")));
    assertFalse(CidrRange.parse("172.16.0.0/12").contains(ip("172.32.0.1")));
  }

  @Test
  void ipv6RangesAndMappedIpv4() throws Exception {
    CidrRange r = CidrRange.parse("fd00::/8");
    assertTrue(r.contains(ip("fd12:3456::1")));
    assertFalse(r.contains(ip("fe80::1")));
    assertFalse(r.contains(ip("10.0.0.1")));
    assertTrue(CidrRange.parse("::1/128").contains(ip("::1")));
    assertTrue(CidrRange.parse("2001:db8::/32").contains(ip("2001:db8:ffff::5")));
    assertTrue(CidrRange.parse("10.0.0.0/8").contains(ip("::ffff:10.9.8.7")));
  }

  @Test
  void badRangesAreRefusedWithoutLookingUpNames() {
    for (String bad : List.of("localhost", "10.0.0.0/33", "::/129", "10.0.0.0/x", "", "example.com/8")) {
      var e = assertThrows(GlanceException.BadRequest.class, () -> CidrRange.parse(bad));
      assertTrue(e.getMessage().contains("invalid address range"), e.getMessage());
    }
  }

  @Test
  void allowList() throws Exception {
    assertTrue(IpAllowList.everyone().allows(ip("203.0.113.5")));
    IpAllowList l = IpAllowList.parse(List.of("127.0.0.1/32", "::1/128", "10.0.0.0/8"));
    assertTrue(l.allows(ip("127.0.0.1")));
    assertTrue(l.allows(ip("::1")));
    assertTrue(l.allows(ip("10.200.0.1")));
    assertFalse(l.allows(ip("192.168.0.1")));
    assertFalse(l.allows(ip("2001:db8::1")));
  }

  @Test
  void forwardedForOnlyFromTrustedProxies() throws Exception {
    ClientAddressResolver r = new ClientAddressResolver(List.of(CidrRange.parse("127.0.0.1/32"), CidrRange.parse("10.0.0.0/8")));
    // From a trusted proxy: the rightmost untrusted hop is the client.
    assertEquals(ip("203.0.113.9"), r.resolve(ip("127.0.0.1"), "198.51.100.1, 203.0.113.9, 10.0.0.5"));
    assertEquals(ip("2001:db8::7"), r.resolve(ip("127.0.0.1"), "[2001:db8::7]:4711"));
    assertEquals(ip("203.0.113.9"), r.resolve(ip("127.0.0.1"), "203.0.113.9:8080"));
    // A forged header from an untrusted peer is ignored.
    assertEquals(ip("192.0.2.44"), r.resolve(ip("192.0.2.44"), "127.0.0.1"));
    // Garbage in the header: stop at the last address the proxy vouched for.
    assertEquals(ip("127.0.0.1"), r.resolve(ip("127.0.0.1"), "not-an-ip"));
    assertEquals(ip("203.0.113.9"), r.resolve(ip("127.0.0.1"), "evil, 203.0.113.9"));
  }
}
