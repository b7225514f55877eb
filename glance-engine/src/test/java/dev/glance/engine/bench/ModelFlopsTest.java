package dev.glance.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.io.ModelConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The FLOP counts behind the benchmark's *_fma_fraction figures, against counts done by hand. */
class ModelFlopsTest {
  // vocab 10, hidden 4, 1 layer, 2 heads of 2, 1 KV head, intermediate 6.
  private static final ModelConfig.TextConfig TEXT =
      new ModelConfig.TextConfig(10, 4, 1, 2, 1, 2, 6, 1e-5f, 10000, 2, List.of(1, 0, 0), 64);
  // depth 2, hidden 4, out 6, merger intermediate 8, patches of 2x2 pixels, 1 frame, 3 channels,
  // merge 2x2.
  private static final ModelConfig.VisionConfig VISION =
      new ModelConfig.VisionConfig(2, 4, 2, 2, 8, 6, 2, 1, 2, 3, 1e-5f, 10000);

  @Test
  void prefillCountsProjectionsPerTokenCausalAttentionAndOneLmHeadRow() {
    // Projections per token: q 4x4, k and v 2x4 each, o 4x4, gate/up/down 3 x 6x4 = 120 weights.
    // Three tokens: 2 x 120 x 3 = 720; attention 4 x (2 heads x 2 dims) x (1 + 2 + 3) = 96;
    // lm_head for the last token: 2 x 10 x 4 = 80.
    assertEquals(720 + 96 + 80, ModelFlops.prefill(TEXT, 3), 1e-9);
  }

  @Test
  void decodeStepCountsEveryMatrixAndAttentionOverTheCachePerSequence() {
    // (2 x (120 + 40) + 4 x 4 x (5 + 1)) x 3 sequences.
    assertEquals(3 * (320 + 96), ModelFlops.decodeStep(TEXT, 3, 5), 1e-9);
    assertEquals(ModelFlops.decodeStep(TEXT, 1, 5) * 8, ModelFlops.decodeStep(TEXT, 8, 5), 1e-9);
  }

  @Test
  void visionCountsBlocksPerPatchAndTheMergerPerMergedToken() {
    // 8 patches: patch embedding 4 x 12, blocks 2 x (4 x 4 x 4 + 3 x 4 x 6) = 272 per patch:
    // 2 x 320 x 8 = 5120; attention 4 x 8 x 8 x 4 x 2 = 2048; 2 merged tokens, each the
    // downsampling 6 x (4 x 4), proj 6 x 6 and merger MLP 3 x 6 x 8 = 276: 2 x 276 x 2 = 1104.
    assertEquals(5120 + 2048 + 1104, ModelFlops.vision(VISION, 8), 1e-9);
    // Attention grows with the square of the patches, the rest linearly.
    assertTrue(ModelFlops.vision(VISION, 16) > 2 * ModelFlops.vision(VISION, 8));
  }
}
