package dev.glance.engine.runtime.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * A least-recently-used map bounded by the total weight of its values (bytes, usually), with hit
 * and miss counters for metrics. Thread-safe; lookups and inserts take one lock, which is cheap
 * next to the work a hit saves (a vision tower pass, a whole generation).
 */
public final class BoundedCache<K, V> {
  private final long capacity;
  private final ToLongFunction<V> weigher;
  private final LinkedHashMap<K, V> map = new LinkedHashMap<>(16, 0.75f, true);
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private long weight;

  /** {@code capacity} in the weigher's units; 0 disables the cache (every lookup misses). */
  public BoundedCache(long capacity, ToLongFunction<V> weigher) {
    this.capacity = capacity;
    this.weigher = weigher;
  }

  public Optional<V> get(K key) {
    V v;
    synchronized (this) {
      v = map.get(key);
    }
    (v == null ? misses : hits).incrementAndGet();
    return Optional.ofNullable(v);
  }

  /** Inserts, evicting least recently used entries; a value heavier than the whole cache is not kept. */
  public void put(K key, V value) {
    long w = weigher.applyAsLong(value);
    if (w > capacity) {
      return;
    }
    synchronized (this) {
      V old = map.put(key, value);
      if (old != null) {
        weight -= weigher.applyAsLong(old);
      }
      weight += w;
      var it = map.entrySet().iterator();
      while (weight > capacity && it.hasNext()) {
        Map.Entry<K, V> e = it.next();
        weight -= weigher.applyAsLong(e.getValue());
        it.remove();
      }
    }
  }

  public synchronized void remove(K key) {
    V old = map.remove(key);
    if (old != null) {
      weight -= weigher.applyAsLong(old);
    }
  }

  public synchronized int size() {
    return map.size();
  }

  public synchronized long weight() {
    return weight;
  }

  public long hits() {
    return hits.get();
  }

  public long misses() {
    return misses.get();
  }
}
