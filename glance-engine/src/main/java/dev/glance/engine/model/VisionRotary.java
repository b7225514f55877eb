package dev.glance.engine.model;

import dev.glance.engine.image.ImageGrid;
import java.util.List;

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
  public void tables(List<ImageGrid> grids, int merge, float[] cos, float[] sin) {
    int q = invFreq.length;
    int row = 0;
    for (ImageGrid g : grids) {
      for (int t = 0; t < g.t(); t++) {
        for (int bh = 0; bh < g.h() / merge; bh++) {
          for (int bw = 0; bw < g.w() / merge; bw++) {
            for (int mh = 0; mh < merge; mh++) {
              for (int mw = 0; mw < merge; mw++) {
                int h = bh * merge + mh;
                int w = bw * merge + mw;
                int base = row * 2 * q;
                for (int j = 0; j < q; j++) {
                  float ah = (float) h * invFreq[j];
                  float aw = (float) w * invFreq[j];
                  cos[base + j] = (float) Math.cos(ah);
                  sin[base + j] = (float) Math.sin(ah);
                  cos[base + q + j] = (float) Math.cos(aw);
                  sin[base + q + j] = (float) Math.sin(aw);
                }
                row++;
              }
            }
          }
        }
      }
    }
  }
}
