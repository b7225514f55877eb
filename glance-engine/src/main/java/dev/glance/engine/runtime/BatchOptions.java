package dev.glance.engine.runtime;

/**
 * Limits of the batch scheduler: the most sequences decoding together, the most prompt tokens
 * prefilled in one step (so a long prompt is split rather than stalling running decodes), and the
 * KV budget in positions, handed out in blocks of {@code blockTokens}; and whether prompts share
 * cached prefix blocks (where the backend has paged KV).
 */
public record BatchOptions(int maxBatch, int maxPrefillTokens, long kvBudgetTokens, int blockTokens,
    boolean prefixCache) {
  /**
   * Positions per KV block: a whole number of the attention kernel's key tiles (16 positions with
   * 256-bit vectors, 32 with 512-bit, 8 with 128-bit), so a tile never straddles two blocks, and
   * small enough that a prompt diverging from a cached one recomputes at most 31 positions.
   */
  public static final int DEFAULT_BLOCK_TOKENS = 32;

  public BatchOptions {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
    }
    if (maxPrefillTokens < 1) {
      throw new IllegalArgumentException("max prefill tokens per step must be >= 1, got " + maxPrefillTokens);
    }
    if (blockTokens < 1 || kvBudgetTokens < blockTokens) {
      throw new IllegalArgumentException("KV budget " + kvBudgetTokens + " must hold at least one block of "
          + blockTokens + " positions");
    }
  }

  /** Limits with the prefix cache on. */
  public BatchOptions(int maxBatch, int maxPrefillTokens, long kvBudgetTokens, int blockTokens) {
    this(maxBatch, maxPrefillTokens, kvBudgetTokens, blockTokens, true);
  }

  public static BatchOptions defaults() {
    return new BatchOptions(8, 512, 65536, DEFAULT_BLOCK_TOKENS);
  }

  public long totalBlocks() {
    return kvBudgetTokens / blockTokens;
  }
}
