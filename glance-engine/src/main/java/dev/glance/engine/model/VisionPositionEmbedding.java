package dev.glance.engine.model;

/**
 * The vision tower's learned S x S position table, resampled to each image's patch grid the way
 * transformers does it: grid_sample with bicubic taps (Keys A = -0.75, not Pillow's -0.5),
 * align_corners=False and border padding (clamped taps). S comes from the table's row count.
 */
public final class VisionPositionEmbedding {
  private static final double A = -0.75;

  private final float[] table; // [S*S][dim]
  private final int side;
  private final int dim;

  public VisionPositionEmbedding(float[] table, int rows, int dim) {
    int s = (int) Math.round(Math.sqrt(rows));
    if (s * s != rows) {
      throw new dev.glance.engine.GlanceException.ModelLoad(
          "vision position embedding has " + rows + " rows, not a square grid");
    }
    this.table = table;
    this.side = s;
    this.dim = dim;
  }

  /** Rows in pixel-values order, [patches][dim]. */
  float[] forPatches(PatchCoordinates p) {
    float[] out = new float[p.size() * dim];
    double[] wx = new double[4];
    double[] wy = new double[4];
    for (int row = 0; row < p.size(); row++) {
      sample(p.h()[row], p.w()[row], p.gridH()[row], p.gridW()[row], wx, wy, out, row * dim);
    }
    return out;
  }

  private void sample(int h, int w, int gh, int gw, double[] wx, double[] wy, float[] out, int off) {
    // Normalised coordinate (float32 in the reference), then grid_sample's unnormalisation.
    float gx = (float) (((w + 0.5f) / (float) gw) * 2 - 1);
    float gy = (float) (((h + 0.5f) / (float) gh) * 2 - 1);
    double ix = ((gx + 1.0) * side - 1) / 2;
    double iy = ((gy + 1.0) * side - 1) / 2;
    int x0 = (int) Math.floor(ix);
    int y0 = (int) Math.floor(iy);
    weights(ix - x0, wx);
    weights(iy - y0, wy);
    for (int i = 0; i < 4; i++) {
      int yy = Math.clamp(y0 - 1 + i, 0, side - 1);
      for (int j = 0; j < 4; j++) {
        int xx = Math.clamp(x0 - 1 + j, 0, side - 1);
        double wgt = wy[i] * wx[j];
        int src = (yy * side + xx) * dim;
        for (int c = 0; c < dim; c++) {
          out[off + c] += (float) (wgt * table[src + c]);
        }
      }
    }
  }

  private static void weights(double t, double[] w) {
    w[0] = far(t + 1);
    w[1] = near(t);
    w[2] = near(1 - t);
    w[3] = far(2 - t);
  }

  private static double near(double x) {
    return ((A + 2) * x - (A + 3)) * x * x + 1;
  }

  private static double far(double x) {
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  }
}
