package dev.glance.engine.runtime.cache;

/**
 * The identity of a full KV block of a prompt: 128 bits of a SHA-256 chain over everything the
 * block's keys and values depend on, the previous block's key and the content of each of its
 * positions (see {@link PrefixKeys}). Two blocks with equal keys hold the same KV.
 */
public record BlockKey(long hi, long lo) {}
