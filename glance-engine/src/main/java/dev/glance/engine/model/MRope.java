package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;

/**
 * The text model's 3-D multimodal rotary embedding: frequency pair j takes its position from the
 * temporal, height or width axis according to mrope_section (counts of pairs, not dims), and is
 * applied to adjacent pairs (2j, 2j+1) of the first rotaryDim dims of each head (interleaved,
 * not rotate-half: the #1 place other ports went wrong).
 */
public final class MRope {
  private final float[] invFreq;
  private final int[] axisOf;

  public MRope(ModelConfig.TextConfig c) {
    int pairs = c.rotaryDim() / 2;
    invFreq = new float[pairs];
    for (int j = 0; j < pairs; j++) {
      // As transformers: arange(0, dim, 2) / dim in float32, base ** x, reciprocal.
      float exponent = (float) (2 * j) / (float) c.rotaryDim();
      invFreq[j] = (float) (1.0 / (float) Math.pow(c.ropeTheta(), exponent));
    }
    axisOf = new int[pairs];
    int j = 0;
    for (int axis = 0; axis < c.mropeSection().size(); axis++) {
      for (int k = 0; k < c.mropeSection().get(axis); k++) {
        axisOf[j++] = axis;
      }
    }
  }

  public int pairs() {
    return invFreq.length;
  }

  /**
   * Fills cos/sin [n][pairs] for tokens [from, from + n) of a (3 x L) position array (rows t, h, w).
   */
  public void tables(int[][] positions, int from, int n, float[] cos, float[] sin) {
    int pairs = invFreq.length;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < pairs; j++) {
        float angle = (float) positions[axisOf[j]][from + i] * invFreq[j];
        cos[i * pairs + j] = (float) Math.cos(angle);
        sin[i * pairs + j] = (float) Math.sin(angle);
      }
    }
  }

  /** Fills cos/sin [1][pairs] for one decode position, the same on all three axes. */
  public void tables(long position, float[] cos, float[] sin) {
    for (int j = 0; j < invFreq.length; j++) {
      float angle = (float) position * invFreq[j];
      cos[j] = (float) Math.cos(angle);
      sin[j] = (float) Math.sin(angle);
    }
  }

  /** Fills row r of cos/sin [n][pairs] for decode position {@code positions[r]} (all axes equal). */
  public void tables(long[] positions, float[] cos, float[] sin) {
    int pairs = invFreq.length;
    for (int r = 0; r < positions.length; r++) {
      for (int j = 0; j < pairs; j++) {
        float angle = (float) positions[r] * invFreq[j];
        cos[r * pairs + j] = (float) Math.cos(angle);
        sin[r * pairs + j] = (float) Math.sin(angle);
      }
    }
  }
}
