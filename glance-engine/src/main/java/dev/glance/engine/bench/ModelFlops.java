package dev.glance.engine.bench;

import dev.glance.engine.io.ModelConfig;

/**
 * Floating-point operations the model's stages must do (an FMA counts two): the matrix products
 * of every projection the stage runs and the attention products (scores and the weighted sum of
 * values). Norms, rotary, activations and softmax are left out: they are a few operations per
 * value, against thousands per row in the products. Divided by a time and by {@link FmaPeak},
 * they say how close a compute-bound stage runs to the machine's arithmetic bound.
 */
final class ModelFlops {
  private ModelFlops() {}

  /**
   * Prefill of {@code n} prompt tokens from an empty cache: every projection for every token,
   * causal attention (token i attends to i + 1 positions), and lm_head for the last token only.
   */
  static double prefill(ModelConfig.TextConfig c, int n) {
    double projections = Benchmark.textMatrixValues(c) - (double) c.vocabSize() * c.hidden();
    double attention = 4.0 * c.heads() * c.headDim() * ((double) n * (n + 1) / 2) * c.layers();
    return 2.0 * projections * n + attention + 2.0 * c.vocabSize() * c.hidden();
  }

  /**
   * One decode step of {@code sequences} sequences, each with {@code context} positions already
   * in its cache: every projection and lm_head per sequence, attention over context + 1 positions.
   */
  static double decodeStep(ModelConfig.TextConfig c, int sequences, int context) {
    double attention = 4.0 * c.heads() * c.headDim() * (context + 1.0) * c.layers();
    return sequences * (2.0 * Benchmark.textMatrixValues(c) + attention);
  }

  /**
   * The vision tower on one image of {@code patches} patches: the patch embedding and every
   * block on each patch (full attention within the image), then the downsampling and the merger
   * on the merged tokens (one per spatialMergeSize^2 patches).
   */
  static double vision(ModelConfig.VisionConfig v, int patches) {
    double d = v.hidden();
    double m = v.outHidden();
    double perPatch = d * v.patchInput() + v.depth() * (4 * d * d + 3 * d * m);
    double attention = 4.0 * patches * (double) patches * d * v.depth();
    int merge = v.spatialMergeSize() * v.spatialMergeSize();
    double perMerged = merge * d * m + m * m + 3 * m * v.mergerIntermediate();
    return 2.0 * perPatch * patches + attention + 2.0 * perMerged * ((double) patches / merge);
  }
}
