package dev.glance.engine.model;

/**
 * The vision tower's 2-D rotary embedding: for head dim d, d/4 frequencies; the first half of the
 * rotated angles follow the patch's row, the second half its column, and rotation is rotate-half
 * over the whole head (unlike the text model's interleaved partial rotary).
 */
public final class VisionRotary {
  private final float[] invFreq;

  public VisionRotary(int headDim, double theta) {
    int dim = headDim / 2;
    invFreq = new float[dim / 2];
    for (int j = 0; j < invFreq.length; j++) {
      float exponent = (float) (2 * j) / (float) dim;
      invFreq[j] = (float) (1.0 / (float) Math.pow(theta, exponent));
    }
  }

  /** Width of each cos/sin row: headDim / 2. */
  public int width() {
    return invFreq.length * 2;
  }

  /** Fills cos/sin [patches][headDim/2] in pixel-values row order. */
  public void tables(PatchCoordinates p, float[] cos, float[] sin) {
    int q = invFreq.length;
    for (int row = 0; row < p.size(); row++) {
      int base = row * 2 * q;
      for (int j = 0; j < q; j++) {
        float ah = (float) p.h()[row] * invFreq[j];
        float aw = (float) p.w()[row] * invFreq[j];
        cos[base + j] = (float) Math.cos(ah);
        sin[base + j] = (float) Math.sin(ah);
        cos[base + q + j] = (float) Math.cos(aw);
        sin[base + q + j] = (float) Math.sin(aw);
      }
    }
  }
}
