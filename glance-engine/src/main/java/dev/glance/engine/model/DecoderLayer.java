package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.KvCache;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.Weight;

/**
 * One GLM-4 decoder layer with "sandwich" norms: each sub-block's output is normalised again
 * before the residual add, and post_attention_layernorm is the pre-MLP norm despite its name.
 */
final class DecoderLayer {
  private final int index;
  private final ModelConfig.TextConfig c;
  private final Weight inputNorm;
  private final Weight postSelfAttnNorm;
  private final Weight postAttnNorm;
  private final Weight postMlpNorm;
  private final Weight q;
  private final Weight qBias;
  private final Weight k;
  private final Weight kBias;
  private final Weight v;
  private final Weight vBias;
  private final Weight o;
  private final Weight gateUp;
  private final Weight down;

  DecoderLayer(WeightLoader w, String prefix, int index, ModelConfig.TextConfig c) {
    this.index = index;
    this.c = c;
    int h = c.hidden();
    int qw = c.heads() * c.headDim();
    int kvw = c.kvHeads() * c.headDim();
    inputNorm = w.vector(prefix + "input_layernorm.weight", h);
    postSelfAttnNorm = w.vector(prefix + "post_self_attn_layernorm.weight", h);
    postAttnNorm = w.vector(prefix + "post_attention_layernorm.weight", h);
    postMlpNorm = w.vector(prefix + "post_mlp_layernorm.weight", h);
    q = w.textMatrix(prefix + "self_attn.q_proj.weight", qw, h);
    qBias = w.vector(prefix + "self_attn.q_proj.bias", qw);
    k = w.textMatrix(prefix + "self_attn.k_proj.weight", kvw, h);
    kBias = w.vector(prefix + "self_attn.k_proj.bias", kvw);
    v = w.textMatrix(prefix + "self_attn.v_proj.weight", kvw, h);
    vBias = w.vector(prefix + "self_attn.v_proj.bias", kvw);
    o = w.textMatrix(prefix + "self_attn.o_proj.weight", h, qw);
    gateUp = w.textMatrix(prefix + "mlp.gate_up_proj.weight", 2 * c.intermediate(), h);
    down = w.textMatrix(prefix + "mlp.down_proj.weight", h, c.intermediate());
  }

  /** x [rows][hidden] at positions [start, start + rows), updated in place; cos/sin already set. */
  void forward(Backend b, Tensor x, int start, KvCache cache, DecoderWorkspace ws) {
    forward(b, x, KvSlots.of(cache, start), ws);
  }

  /** x [rows][hidden], each row's keys and values where {@code slots} say; cos/sin already set. */
  void forward(Backend b, Tensor x, KvSlots slots, DecoderWorkspace ws) {
    b.rmsNorm(x, inputNorm, c.rmsEps(), ws.normed);
    b.linear(ws.normed, q, qBias, ws.q);
    b.linear(ws.normed, k, kBias, ws.k);
    b.linear(ws.normed, v, vBias, ws.v);
    b.rotaryInterleaved(ws.q, 0, c.heads(), c.headDim(), ws.cos, ws.sin);
    b.rotaryInterleaved(ws.k, 0, c.kvHeads(), c.headDim(), ws.cos, ws.sin);
    slots.write(b, index, ws.k, ws.v);
    slots.attend(b, index, ws.q, c.heads(), ws.attn);
    b.linear(ws.attn, o, null, ws.out);
    b.addRmsNorm(x, ws.out, postSelfAttnNorm, c.rmsEps());

    b.rmsNorm(x, postAttnNorm, c.rmsEps(), ws.normed);
    b.linear(ws.normed, gateUp, null, ws.gateUp);
    b.siluGlu(ws.gateUp, ws.act);
    b.linear(ws.act, down, null, ws.out);
    b.addRmsNorm(x, ws.out, postMlpNorm, c.rmsEps());
  }
}
