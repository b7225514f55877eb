package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;

/**
 * The activations one vision block needs for n patches, allocated once per encode and reused by
 * every block: each block overwrites them whole. Allocating them per block made the engine
 * thread zero ~27 MB per block for a 336x336 image, about a tenth of the tower's time.
 */
record VisionWorkspace(Tensor normed, Tensor qkv, Tensor attn, Tensor gate, Tensor up) {

  static VisionWorkspace of(Backend b, ModelConfig.VisionConfig c, int patches) {
    int d = c.hidden();
    return new VisionWorkspace(b.allocate(patches, d), b.allocate(patches, 3 * d), b.allocate(patches, d),
        b.allocate(patches, c.outHidden()), b.allocate(patches, c.outHidden()));
  }
}
