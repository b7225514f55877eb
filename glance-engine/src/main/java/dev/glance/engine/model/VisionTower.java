package dev.glance.engine.model;

import dev.glance.engine.GlanceException;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.Weight;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * The GLM-4V vision encoder: patch embedding (a Conv3d with stride = kernel, i.e. a linear layer
 * on each flattened patch), post-conv RMSNorm, resampled learned position embeddings, the ViT
 * blocks with 2-D rotary and per-image attention, post-norm and the patch merger. Output rows are
 * image embeddings in the order the prompt's image placeholders appear.
 */
public final class VisionTower {
  private static final String PREFIX = "model.visual.";

  private final ModelConfig.VisionConfig c;
  private final Weight patchEmbed;
  private final Weight patchBias;
  private final Weight postConvNorm;
  private final Weight postNorm;
  private final VisionPositionEmbedding positions;
  private final VisionRotary rotary;
  private final List<VisionBlock> blocks;
  private final PatchMerger merger;

  VisionTower(WeightLoader w, ModelConfig.VisionConfig c, Arena arena) {
    this.c = c;
    int d = c.hidden();
    patchEmbed = w.matrix(PREFIX + "patch_embed.proj.weight", d, c.patchInput(),
        d, c.inChannels(), c.temporalPatchSize(), c.patchSize(), c.patchSize());
    patchBias = w.vector(PREFIX + "patch_embed.proj.bias", d);
    postConvNorm = w.vector(PREFIX + "post_conv_layernorm.weight", d);
    postNorm = w.vector(PREFIX + "post_layernorm.weight", d);
    var table = w.source().find(PREFIX + "embeddings.position_embedding.weight");
    if (table == null || table.dims() != 2 || table.shape()[1] != d) {
      throw new GlanceException.ModelLoad(w.source().describe() + ": tensor " + PREFIX
          + "embeddings.position_embedding.weight missing or not [n, " + d + "]");
    }
    positions = new VisionPositionEmbedding(table.toFloatArray(), (int) table.shape()[0], d);
    rotary = new VisionRotary(c.headDim(), c.ropeTheta());
    blocks = new ArrayList<>();
    for (int i = 0; i < c.depth(); i++) {
      blocks.add(new VisionBlock(w, PREFIX + "blocks." + i + ".", c));
    }
    merger = new PatchMerger(w, PREFIX, c, arena);
  }

  public ModelConfig.VisionConfig config() {
    return c;
  }

  /**
   * Encodes pixel values [patches][patchInput] of the given images into
   * [patches / merge²][out_hidden] embeddings.
   */
  public Tensor encode(Backend b, float[] pixels, List<ImageGrid> grids) {
    int m = c.spatialMergeSize();
    int n = 0;
    for (ImageGrid g : grids) {
      if (g.h() % m != 0 || g.w() % m != 0) {
        throw new GlanceException.BadRequest("image grid " + g + " is not a multiple of the merge size " + m);
      }
      n += g.patches();
    }
    if (pixels.length != n * c.patchInput()) {
      throw new GlanceException.BadRequest("pixel values hold " + pixels.length + " floats; grids "
          + grids + " need " + n + " x " + c.patchInput());
    }
    int d = c.hidden();
    Tensor px = b.upload(pixels, n, c.patchInput());
    Tensor x = b.allocate(n, d);
    b.linear(px, patchEmbed, patchBias, x);
    b.rmsNorm(x, postConvNorm, c.rmsEps(), x);
    PatchCoordinates coords = PatchCoordinates.of(grids, m);
    Tensor pos = b.upload(positions.forPatches(coords), n, d);
    b.add(x, pos, x);

    float[] cos = new float[n * rotary.width()];
    float[] sin = new float[n * rotary.width()];
    rotary.tables(coords, cos, sin);
    Tensor cosT = b.upload(cos, n, rotary.width());
    Tensor sinT = b.upload(sin, n, rotary.width());
    int[] segments = segments(grids);
    VisionWorkspace ws = VisionWorkspace.of(b, c, n);
    for (VisionBlock block : blocks) {
      block.forward(b, x, cosT, sinT, segments, ws);
    }
    b.rmsNorm(x, postNorm, c.rmsEps(), x);
    return merger.forward(b, x);
  }

  /** Start row of every image frame, then the total: attention never crosses a frame. */
  private static int[] segments(List<ImageGrid> grids) {
    List<Integer> starts = new ArrayList<>();
    int row = 0;
    for (ImageGrid g : grids) {
      for (int t = 0; t < g.t(); t++) {
        starts.add(row);
        row += g.h() * g.w();
      }
    }
    starts.add(row);
    return starts.stream().mapToInt(Integer::intValue).toArray();
  }
}
