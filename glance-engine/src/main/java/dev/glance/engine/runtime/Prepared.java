package dev.glance.engine.runtime;

import dev.glance.engine.model.RopeIndex;
import dev.glance.engine.runtime.cache.ImageKey;
import dev.glance.engine.tensor.Tensor;
import java.util.List;

/**
 * A request made ready for the decoder: prompt ids, the prompt's embeddings with the images
 * scattered in, its rotary index, the KV capacity it needs (prompt plus max_tokens, within the
 * context), the images' identities and placeholder counts in prompt order (for prefix-cache keys),
 * and what the vision cache did. Times are System.nanoTime() marks: start, images
 * preprocessed, vision encoded.
 */
record Prepared(GenerationRequest request, int[] ids, int imageTokens, Tensor embeds, RopeIndex index, int capacity,
    List<ImageKey> imageKeys, int[] imageTokenCounts, int visionHits, long startNanos, long preprocessedNanos,
    long encodedNanos) {

  /** The images' pixel hashes, in prompt order. */
  List<String> imageHashes() {
    return imageKeys.stream().map(ImageKey::pixelHash).toList();
  }
}
