package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;

/**
 * Activation buffers for a decoder pass over a fixed number of rows. A sequence keeps one for
 * single-token decode steps so that no step allocates; prefill makes one for the prompt.
 */
final class DecoderWorkspace {
  final int rows;
  final Tensor normed;
  final Tensor q;
  final Tensor k;
  final Tensor v;
  final Tensor attn;
  final Tensor out;
  final Tensor gateUp;
  final Tensor act;
  final Tensor cos;
  final Tensor sin;
  final float[] cosHost;
  final float[] sinHost;

  DecoderWorkspace(Backend b, ModelConfig.TextConfig c, int rows) {
    this.rows = rows;
    int kvWidth = c.kvHeads() * c.headDim();
    int pairs = c.rotaryDim() / 2;
    normed = b.allocate(rows, c.hidden());
    q = b.allocate(rows, c.heads() * c.headDim());
    k = b.allocate(rows, kvWidth);
    v = b.allocate(rows, kvWidth);
    attn = b.allocate(rows, c.heads() * c.headDim());
    out = b.allocate(rows, c.hidden());
    gateUp = b.allocate(rows, 2 * c.intermediate());
    act = b.allocate(rows, c.intermediate());
    cosHost = new float[rows * pairs];
    sinHost = new float[rows * pairs];
    cos = b.allocate(rows, pairs);
    sin = b.allocate(rows, pairs);
  }
}
