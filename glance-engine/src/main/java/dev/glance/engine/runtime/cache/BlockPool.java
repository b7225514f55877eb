package dev.glance.engine.runtime.cache;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The ids of a fixed number of KV blocks and who holds them. A block is free, used (held by one or
 * more sequences: a reference count), or cached: no sequence holds it but it keeps a full prompt
 * block's KV under its {@link BlockKey}, for a later prompt with the same prefix. Cached blocks are
 * evicted least recently released first, and only when an allocation finds no free block. Ids are
 * handed out lowest-unused-first after freed ones, so backend storage that materialises blocks on
 * first use grows only as far as the load needs.
 *
 * <p>Not thread-safe: the scheduler's thread owns it. The counts are plain reads for gauges.
 */
public final class BlockPool {
  private final int total;
  private final int[] refs;
  private final BlockKey[] keyOf;
  private final Map<BlockKey, Integer> byKey = new HashMap<>();
  /** Cached blocks (no references, a key), least recently released first. */
  private final LinkedHashSet<Integer> lru = new LinkedHashSet<>();
  /** Freed blocks, reused before ids never handed out. */
  private final ArrayDeque<Integer> freed = new ArrayDeque<>();
  private int fresh;
  private volatile int used;
  private volatile int cached;
  private long evictions;

  public BlockPool(int total) {
    if (total < 1) {
      throw new IllegalArgumentException("a block pool needs at least one block, got " + total);
    }
    this.total = total;
    this.refs = new int[total];
    this.keyOf = new BlockKey[total];
  }

  public int total() {
    return total;
  }

  /** Blocks held by at least one sequence. */
  public int used() {
    return used;
  }

  /** Blocks held by no sequence but keeping a prefix's KV (evictable). */
  public int cached() {
    return cached;
  }

  /** Blocks an allocation can take: free ones and cached ones (evicted on the way). */
  public int available() {
    return total - used;
  }

  /** Cached blocks evicted so far to make room. */
  public long evictions() {
    return evictions;
  }

  /**
   * The blocks holding the longest run of {@code keys} from the start, at most {@code max} of
   * them; nothing is taken yet (see {@link #allocate}).
   */
  public int[] match(BlockKey[] keys, int max) {
    int n = 0;
    int[] found = new int[Math.min(max, keys.length)];
    while (n < found.length) {
      Integer id = byKey.get(keys[n]);
      if (id == null) {
        break;
      }
      found[n++] = id;
    }
    return Arrays.copyOf(found, n);
  }

  /**
   * A block table: the {@code shared} blocks (from {@link #match}, one more reference each), then
   * {@code fresh} blocks of its own; null, taking nothing, when free and cached blocks (other than
   * the shared ones) are too few.
   */
  public int[] allocate(int[] shared, int fresh) {
    int sharedCached = 0;
    for (int id : shared) {
      if (refs[id] == 0) {
        sharedCached++;
      }
    }
    if (fresh > total - used - sharedCached) {
      return null;
    }
    int[] table = Arrays.copyOf(shared, shared.length + fresh);
    for (int id : shared) {
      if (refs[id]++ == 0) {
        lru.remove(id);
        cached--;
        used++;
      }
    }
    for (int i = shared.length; i < table.length; i++) {
      int id = take();
      refs[id] = 1;
      used++;
      table[i] = id;
    }
    return table;
  }

  private int take() {
    if (!freed.isEmpty()) {
      return freed.pop();
    }
    if (fresh < total) {
      return fresh++;
    }
    var it = lru.iterator();
    int id = it.next();
    it.remove();
    cached--;
    byKey.remove(keyOf[id]);
    keyOf[id] = null;
    evictions++;
    return id;
  }

  /**
   * Records that held block {@code id} now holds the full prompt block {@code key}, so it stays
   * cached when released. False when the id already has a key or another block has this key (two
   * sequences computed the same block at once: the first one is kept).
   */
  public boolean register(int id, BlockKey key) {
    if (refs[id] == 0) {
      throw new IllegalStateException("block " + id + " is not held");
    }
    if (keyOf[id] != null || byKey.containsKey(key)) {
      return false;
    }
    keyOf[id] = key;
    byKey.put(key, id);
    return true;
  }

  /**
   * Drops one reference to each block of a table. A block nobody holds any more becomes cached if
   * it has a key, free otherwise. The table is released back to front, so a prefix's later blocks
   * are evicted before its earlier ones (which other prompts are likelier to share).
   */
  public void release(int[] table) {
    for (int i = table.length - 1; i >= 0; i--) {
      int id = table[i];
      if (refs[id] <= 0) {
        throw new IllegalStateException("block " + id + " released more often than taken");
      }
      if (--refs[id] == 0) {
        used--;
        if (keyOf[id] != null) {
          lru.add(id);
          cached++;
        } else {
          freed.push(id);
        }
      }
    }
  }
}
