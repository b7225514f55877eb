package dev.glance.engine.runtime.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reference counts, the prefix map, least-recently-released eviction, and the prefix keys. */
class BlockPoolTest {

  private static BlockKey key(int i) {
    return new BlockKey(i, -i);
  }

  @Test
  void blocksAreHandedOutOnceAndComeBackWhenReleased() {
    BlockPool pool = new BlockPool(4);
    int[] a = pool.allocate(new int[0], 3);
    assertEquals(3, a.length);
    assertEquals(3, Arrays.stream(a).distinct().count());
    assertEquals(3, pool.used());
    assertEquals(1, pool.available());
    assertNull(pool.allocate(new int[0], 2), "two blocks do not fit in one");
    assertEquals(3, pool.used(), "a refused allocation takes nothing");
    pool.release(a);
    assertEquals(0, pool.used());
    assertEquals(0, pool.cached(), "blocks without a key are free, not cached");
    assertEquals(4, pool.allocate(new int[0], 4).length);
    assertThrows(IllegalStateException.class, () -> pool.release(new int[] {0, 0, 0}));
  }

  @Test
  void registeredBlocksStayCachedAndAreSharedByReference() {
    BlockPool pool = new BlockPool(6);
    int[] a = pool.allocate(new int[0], 3);
    assertTrue(pool.register(a[0], key(1)));
    assertTrue(pool.register(a[1], key(2)));
    assertFalse(pool.register(a[2], key(2)), "a key already held by another block is not taken twice");
    assertFalse(pool.register(a[0], key(9)), "a block keeps its first key");
    // While a holds them, b shares the first two blocks: three references are not six blocks.
    int[] shared = pool.match(new BlockKey[] {key(1), key(2), key(3)}, 3);
    assertArrayEquals(new int[] {a[0], a[1]}, shared);
    assertArrayEquals(new int[] {a[0]}, pool.match(new BlockKey[] {key(1), key(2)}, 1), "at most max blocks");
    assertEquals(0, pool.match(new BlockKey[] {key(7), key(1)}, 5).length, "a run stops at the first miss");
    int[] b = pool.allocate(shared, 2);
    assertEquals(5, pool.used());
    pool.release(a);
    assertEquals(4, pool.used(), "shared blocks survive a's release; a's own third block is freed");
    assertEquals(0, pool.cached());
    pool.release(b);
    assertEquals(0, pool.used());
    assertEquals(2, pool.cached(), "the keyed blocks stay cached");
    assertEquals(6, pool.available(), "cached blocks count as available");
    // A later prompt with the same prefix finds them again.
    int[] c = pool.allocate(pool.match(new BlockKey[] {key(1), key(2)}, 2), 1);
    assertEquals(a[0], c[0]);
    assertEquals(a[1], c[1]);
    assertEquals(0, pool.cached());
    assertEquals(3, pool.used());
  }

  @Test
  void cachedBlocksAreEvictedLeastRecentlyReleasedFirstAndOnlyWhenNeeded() {
    BlockPool pool = new BlockPool(4);
    int[] a = pool.allocate(new int[0], 2);
    pool.register(a[0], key(1));
    pool.register(a[1], key(2));
    pool.release(a);
    int[] b = pool.allocate(new int[0], 1);
    pool.register(b[0], key(3));
    pool.release(b);
    assertEquals(3, pool.cached());
    // One never-used block is left: it goes before any cached block.
    int[] c = pool.allocate(new int[0], 1);
    assertEquals(0, pool.evictions());
    assertEquals(3, pool.cached());
    // Now eviction: a was released back to front, so its second block is the oldest, then its
    // first, then b's.
    int[] d = pool.allocate(new int[0], 1);
    assertEquals(a[1], d[0]);
    assertEquals(1, pool.evictions());
    assertEquals(0, pool.match(new BlockKey[] {key(2)}, 1).length, "key 2 was evicted");
    assertEquals(1, pool.match(new BlockKey[] {key(1)}, 1).length, "key 1 remains");
    int[] e = pool.allocate(new int[0], 1);
    assertEquals(a[0], e[0]);
    assertArrayEquals(new int[] {b[0]}, pool.match(new BlockKey[] {key(3)}, 1));
    // Sharing a cached block while the pool is otherwise full: it cannot also be evicted for the
    // same allocation's fresh block.
    assertNull(pool.allocate(new int[] {b[0]}, 1));
    assertEquals(1, pool.cached(), "the refused allocation left the cached block as it was");
    pool.release(c);
    int[] f = pool.allocate(new int[] {b[0]}, 1);
    assertEquals(b[0], f[0]);
    assertEquals(c[0], f[1]);
    assertEquals(4, pool.used());
  }

  @Test
  void prefixKeysChainWholeBlocksAndFoldInImageIdentity() {
    int image = 99;
    int[] ids = {1, 2, 3, 4, 5, 99, 99, 99, 99, 6, 7};
    ImageKey x = new ImageKey("aaaa", "pre");
    ImageKey y = new ImageKey("bbbb", "pre");
    BlockKey[] kx = PrefixKeys.of(ids, image, List.of(x), new int[] {4}, 4);
    BlockKey[] ky = PrefixKeys.of(ids, image, List.of(y), new int[] {4}, 4);
    assertEquals(2, kx.length, "only full blocks");
    assertEquals(kx[0], ky[0], "the block before the image is the same");
    assertNotEquals(kx[1], ky[1], "same placeholder tokens, different images");
    BlockKey[] kz = PrefixKeys.of(ids, image, List.of(new ImageKey("aaaa", "other")), new int[] {4}, 4);
    assertNotEquals(kx[1], kz[1], "same pixels preprocessed differently");
    int[] changed = ids.clone();
    changed[0] = 8;
    BlockKey[] kc = PrefixKeys.of(changed, image, List.of(x), new int[] {4}, 4);
    assertNotEquals(kx[0], kc[0]);
    assertNotEquals(kx[1], kc[1], "a block's key depends on everything before it");
    assertArrayEquals(kx, PrefixKeys.of(ids, image, List.of(x), new int[] {4}, 4), "deterministic");
    // Two images back to back: the placeholder index restarts at the second image.
    int[] two = {99, 99, 99, 99};
    BlockKey[] ab = PrefixKeys.of(two, image, List.of(x, y), new int[] {2, 2}, 4);
    BlockKey[] ba = PrefixKeys.of(two, image, List.of(y, x), new int[] {2, 2}, 4);
    assertNotEquals(ab[0], ba[0]);
  }
}
