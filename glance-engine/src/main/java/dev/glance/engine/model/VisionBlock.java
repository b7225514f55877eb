package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.Weight;

/**
 * One pre-norm ViT block: x += proj(attn(rope(qkv(norm1 x)))) with attention confined to each
 * image; x += down(silu(gate y) * up y), y = norm2 x. The block MLP width is out_hidden_size.
 */
final class VisionBlock {
  private final Weight norm1;
  private final Weight norm2;
  private final Weight qkv;
  private final Weight proj;
  private final Weight gate;
  private final Weight up;
  private final Weight down;
  private final ModelConfig.VisionConfig c;

  VisionBlock(WeightLoader w, String prefix, ModelConfig.VisionConfig c) {
    this.c = c;
    int d = c.hidden();
    int mlp = c.outHidden();
    norm1 = w.vector(prefix + "norm1.weight", d);
    norm2 = w.vector(prefix + "norm2.weight", d);
    qkv = w.matrix(prefix + "attn.qkv.weight", 3 * d, d);
    proj = w.matrix(prefix + "attn.proj.weight", d, d);
    gate = w.matrix(prefix + "mlp.gate_proj.weight", mlp, d);
    up = w.matrix(prefix + "mlp.up_proj.weight", mlp, d);
    down = w.matrix(prefix + "mlp.down_proj.weight", d, mlp);
  }

  void forward(Backend b, Tensor x, Tensor cos, Tensor sin, int[] segments, VisionWorkspace ws) {
    int d = c.hidden();
    Tensor h = ws.normed();
    b.rmsNorm(x, norm1, c.rmsEps(), h);
    Tensor qkvOut = ws.qkv();
    b.linear(h, qkv, null, qkvOut);
    b.rotaryHalf(qkvOut, 0, c.heads(), c.headDim(), cos, sin);
    b.rotaryHalf(qkvOut, d, c.heads(), c.headDim(), cos, sin);
    Tensor attn = ws.attn();
    b.attentionSegments(qkvOut, c.heads(), c.headDim(), segments, attn);
    b.linear(attn, proj, null, h);
    b.add(x, h, x);
    b.rmsNorm(x, norm2, c.rmsEps(), h);
    Tensor g = ws.gate();
    Tensor u = ws.up();
    b.linear(h, gate, null, g);
    b.linear(h, up, null, u);
    b.siluMul(g, u, g);
    b.linear(g, down, null, h);
    b.add(x, h, x);
  }
}
