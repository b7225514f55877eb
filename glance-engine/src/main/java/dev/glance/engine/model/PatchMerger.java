package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The end of the vision tower: the 2x2 downsample convolution (with bias) over each merge block
 * of four consecutive patch rows, then proj, LayerNorm (weight and bias), exact GELU and a SwiGLU
 * MLP of width intermediate_size.
 */
final class PatchMerger {
  /** nn.LayerNorm's default; the reference does not take it from the config. */
  private static final float LAYER_NORM_EPS = 1e-5f;

  private final Weight downsample;
  private final Weight downsampleBias;
  private final Weight proj;
  private final Weight normWeight;
  private final Weight normBias;
  private final Weight gate;
  private final Weight up;
  private final Weight down;
  private final int merged;
  private final int out;
  private final int inter;

  PatchMerger(WeightLoader w, String prefix, ModelConfig.VisionConfig c, Arena arena) {
    int d = c.hidden();
    int m = c.spatialMergeSize();
    merged = d * m * m;
    out = c.outHidden();
    inter = c.mergerIntermediate();
    TensorData ds = w.raw(prefix + "downsample.weight", out, d, m, m);
    downsample = w.backend().matrix(blockMajor(ds, out, d, m * m, arena), out, merged);
    downsampleBias = w.vector(prefix + "downsample.bias", out);
    proj = w.matrix(prefix + "merger.proj.weight", out, out);
    normWeight = w.vector(prefix + "merger.post_projection_norm.weight", out);
    normBias = w.vector(prefix + "merger.post_projection_norm.bias", out);
    gate = w.matrix(prefix + "merger.gate_proj.weight", inter, out);
    up = w.matrix(prefix + "merger.up_proj.weight", inter, out);
    down = w.matrix(prefix + "merger.down_proj.weight", out, inter);
  }

  /**
   * Reorders the conv kernel (out, c, i, j) to (out, k = i*m + j, c) once at load, so that the
   * four patch rows of a merge block, lying one after another, are a plain linear layer's input.
   */
  private static TensorData blockMajor(TensorData t, int out, int channels, int taps, Arena arena) {
    int bytes = t.dtype().bytes();
    MemorySegment dst = arena.allocate((long) out * channels * taps * bytes, 8);
    MemorySegment src = t.data();
    for (long o = 0; o < out; o++) {
      for (int c = 0; c < channels; c++) {
        for (int k = 0; k < taps; k++) {
          long from = ((o * channels + c) * taps + k) * bytes;
          long to = ((o * taps + k) * channels + c) * bytes;
          MemorySegment.copy(src, from, dst, to, bytes);
        }
      }
    }
    return new TensorData(t.name() + "#block-major", t.dtype(), new long[] {out, (long) taps * channels}, dst);
  }

  /** x: [patches][hidden] after post_layernorm; returns [patches/m²][out_hidden]. */
  Tensor forward(Backend b, Tensor x) {
    int n = x.rows() * x.cols() / merged;
    Tensor blocks = b.view(x, n, merged);
    Tensor z = b.allocate(n, out);
    b.linear(blocks, downsample, downsampleBias, z);
    Tensor u = b.allocate(n, out);
    b.linear(z, proj, null, u);
    b.layerNorm(u, normWeight, normBias, LAYER_NORM_EPS, u);
    b.gelu(u);
    Tensor g = b.allocate(n, inter);
    Tensor v = b.allocate(n, inter);
    b.linear(u, gate, null, g);
    b.linear(u, up, null, v);
    b.siluMul(g, v, g);
    b.linear(g, down, null, z);
    return z;
  }

}
