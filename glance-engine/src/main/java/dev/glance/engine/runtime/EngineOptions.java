package dev.glance.engine.runtime;

import dev.glance.engine.image.ImageDecoder;
import dev.glance.engine.tensor.DType;
import java.util.Objects;
import java.util.Optional;

/**
 * How an engine is set up, with the defaults a single-user deployment wants.
 *
 * @param maxInputPixels images with more pixels (read from the header) are refused before decoding
 * @param maxInputBytes image files larger than this are refused unread
 * @param contextLimit most tokens a sequence may hold; 0 = the checkpoint's max_position_embeddings
 * @param quantize the text decoder's weights quantised at load to Q8_0 or Q4_0 (once, from the
 *     checkpoint's precision, into memory); empty = as stored (BF16 checkpoints stay memory-mapped)
 * @param kv how KV caches hold keys and values: F32 (default, exact) or BF16 (half the memory)
 * @param visionCacheBytes memory for image embeddings kept by image hash; 0 turns the cache off
 */
public record EngineOptions(long maxInputPixels, long maxInputBytes, int contextLimit,
    Optional<DType> quantize, DType kv, long visionCacheBytes) {
  /** Default vision-embedding cache: 256 MiB (about 16 000 image tokens of a 4096-wide model). */
  public static final long DEFAULT_VISION_CACHE_BYTES = 256L << 20;

  public EngineOptions {
    Objects.requireNonNull(quantize, "quantize");
    Objects.requireNonNull(kv, "kv");
    if (quantize.isPresent() && !quantize.get().quantized()) {
      throw new IllegalArgumentException("quantize must be a block format, not " + quantize.get());
    }
    if (kv != DType.F32 && kv != DType.BF16) {
      throw new IllegalArgumentException("kv must be F32 or BF16, not " + kv);
    }
    if (visionCacheBytes < 0) {
      throw new IllegalArgumentException("visionCacheBytes must be >= 0");
    }
  }

  public EngineOptions(long maxInputPixels, long maxInputBytes, int contextLimit) {
    this(maxInputPixels, maxInputBytes, contextLimit, Optional.empty(), DType.F32, DEFAULT_VISION_CACHE_BYTES);
  }

  public static EngineOptions defaults() {
    return new EngineOptions(ImageDecoder.DEFAULT_MAX_INPUT_PIXELS, ImageDecoder.DEFAULT_MAX_INPUT_BYTES, 0);
  }

  public EngineOptions withQuantize(Optional<DType> format) {
    return new EngineOptions(maxInputPixels, maxInputBytes, contextLimit, format, kv, visionCacheBytes);
  }

  public EngineOptions withKv(DType dtype) {
    return new EngineOptions(maxInputPixels, maxInputBytes, contextLimit, quantize, dtype, visionCacheBytes);
  }

  public EngineOptions withVisionCacheBytes(long bytes) {
    return new EngineOptions(maxInputPixels, maxInputBytes, contextLimit, quantize, kv, bytes);
  }

  /**
   * Parses a --quantize value: q8_0 or q4_0 (any case); null or blank means none. Anything else
   * is a BadRequest that names {@code what} and the accepted values.
   */
  public static Optional<DType> parseQuantize(String text, String what) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(DType.parse(text, what, DType.Q8_0, DType.Q4_0));
  }

  /** Parses a --kv value: f32 or bf16 (any case); null or blank means f32. */
  public static DType parseKv(String text, String what) {
    if (text == null || text.isBlank()) {
      return DType.F32;
    }
    return DType.parse(text, what, DType.F32, DType.BF16);
  }
}
