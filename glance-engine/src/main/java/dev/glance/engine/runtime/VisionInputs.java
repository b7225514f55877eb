package dev.glance.engine.runtime;

import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.image.PixelValues;
import dev.glance.engine.runtime.cache.ImageKey;
import java.util.List;

/**
 * One request's images in prompt order with their cache keys and grids: {@code embeddings[i]} is
 * filled from the vision cache when image i was seen before, or by the vision tower later;
 * {@code pixels} holds the preprocessed patches of the {@code missing} ones, in that order (null
 * when none is missing).
 */
record VisionInputs(List<ImageKey> keys, List<ImageGrid> grids, float[][] embeddings, List<Integer> missing,
    PixelValues pixels, int hits) {

  /** Patches the vision tower has to encode for this request. */
  int missingPatches() {
    return missing.stream().mapToInt(i -> grids.get(i).patches()).sum();
  }
}
