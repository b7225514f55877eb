package dev.glance.engine.runtime;

import dev.glance.engine.image.ImageDecoder;

/**
 * How an engine is set up, with the defaults a single-user deployment wants.
 *
 * @param maxInputPixels images with more pixels (read from the header) are refused before decoding
 * @param maxInputBytes image files larger than this are refused unread
 * @param contextLimit most tokens a sequence may hold; 0 = the checkpoint's max_position_embeddings
 * @param visionCacheBytes memory for image embeddings kept by image hash; 0 turns the cache off
 */
public record EngineOptions(long maxInputPixels, long maxInputBytes, int contextLimit, long visionCacheBytes) {
  /** Default vision-embedding cache: 256 MiB (about 16 000 image tokens of a 4096-wide model). */
  public static final long DEFAULT_VISION_CACHE_BYTES = 256L << 20;

  public static EngineOptions defaults() {
    return new EngineOptions(ImageDecoder.DEFAULT_MAX_INPUT_PIXELS, ImageDecoder.DEFAULT_MAX_INPUT_BYTES, 0,
        DEFAULT_VISION_CACHE_BYTES);
  }
}
