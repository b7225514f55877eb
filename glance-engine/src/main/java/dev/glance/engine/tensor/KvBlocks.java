package dev.glance.engine.tensor;

/**
 * Backend-owned storage for KV blocks: each block holds the keys and values of {@link
 * #blockTokens()} consecutive positions for every layer and KV head, and is addressed by an id.
 * A sequence's cache is then a table of block ids ({@link Backend#kvCache(KvBlocks, int[], int)}),
 * so sequences can share blocks (a common prompt prefix) and blocks can be reused without copying.
 * Which ids are in use is the caller's business (a block pool); the storage only materialises a
 * block the first time a cache refers to it, so a large id range costs nothing until it is used.
 */
public interface KvBlocks {
  /** Positions per block. */
  int blockTokens();

  /** Bytes one block takes once materialised. */
  long blockBytes();

  /** Bytes held now, over the blocks materialised so far. */
  long bytes();
}
