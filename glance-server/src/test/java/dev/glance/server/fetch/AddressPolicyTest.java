package dev.glance.server.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AddressPolicyTest {
  static Optional<String> refusal(AddressPolicy p, String literal) throws Exception {
    return p.refusal(InetAddress.getByName(literal));
  }

  @Test
  void internalAddressesAreRefused() throws Exception {
    AddressPolicy p = AddressPolicy.strict();
    for (String a : List.of("127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.5.4", "172.31.255.255",
        "192.168.1.1", "169.254.169.254", "fe80::1", "fd00:ec2::254", "fc00::1", "0.0.0.0", "::", "100.64.0.1",
        "224.0.0.1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
        "240.0.0.1", "198.18.0.1", "192.0.0.8")) {
      assertTrue(refusal(p, a).isPresent(), a + " should be refused");
    }
  }

  @Test
  void publicAddressesAreAllowed() throws Exception {
    AddressPolicy p = AddressPolicy.strict();
    for (String a : List.of("8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
        "::ffff:8.8.8.8")) {
      assertEquals(Optional.empty(), refusal(p, a), a);
    }
  }

  @Test
  void allowListOpensOnlyWhatItNames() throws Exception {
    AddressPolicy p = new AddressPolicy(List.of("127.0.0.1/32", "10.0.0.0/8", "fd00::/8", "images.internal"));
    assertEquals(Optional.empty(), refusal(p, "127.0.0.1"));
    assertTrue(refusal(p, "127.0.0.2").isPresent());
    assertEquals(Optional.empty(), refusal(p, "10.200.3.4"));
    assertTrue(refusal(p, "192.168.0.1").isPresent());
    assertEquals(Optional.empty(), refusal(p, "fd00:ec2::254"));
    assertTrue(refusal(p, "169.254.169.254").isPresent());
    assertTrue(p.hostAllowed("Images.Internal"));
    assertTrue(!p.hostAllowed("example.com"));
    assertThrows(IllegalArgumentException.class, () -> new AddressPolicy(List.of("10.0.0.0/x y")));
    // An out-of-range literal is not taken for a host name to look up.
    assertThrows(IllegalArgumentException.class, () -> new AddressPolicy(List.of("999.1.1.1/8")));
  }
}
