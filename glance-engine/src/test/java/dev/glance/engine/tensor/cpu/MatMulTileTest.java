package dev.glance.engine.tensor.cpu;

import static dev.glance.engine.tensor.cpu.MatMul.KC;
import static dev.glance.engine.tensor.cpu.MatMul.TB;
import static dev.glance.engine.tensor.cpu.MatMul.VL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every register tile of the matrix-product micro-kernel against a scalar reference, whichever
 * tile this machine's {@link MatMul#NR} selects (the others still run correctly, only slower), on
 * reduction lengths that are odd, shorter than a vector and up to a slice (longer for the
 * interleaved tiles, which attention runs over whole head dimensions), at an offset.
 */
class MatMulTileTest {
  private final SplittableRandom rnd = new SplittableRandom(7);

  interface Tile {
    void run(float[] xt, int xo, float[] wp, int kc, float[] c, int co, boolean accumulate);
  }

  @Test
  void fourRowTileMatchesScalar() {
    check(4, 4, 1, MatMul::kernel4);
  }

  @Test
  void twelveRowTileMatchesScalar() {
    check(12, 12, 1, MatMul::kernel12);
  }

  @Test
  void fourRowPanelTileMatchesScalar() {
    check(4, 1, KC, MatMul::panelKernel4);
  }

  @Test
  void twelveRowPanelTileMatchesScalar() {
    check(12, 1, KC, MatMul::panelKernel12);
  }

  @Test
  void selectedTilesMatchScalar() {
    assertTrue(MatMul.NR == 4 || MatMul.NR == 12, "NR " + MatMul.NR);
    assertEquals(MatMul.REGISTERS >= 32 ? 12 : 4, MatMul.NR);
    check(MatMul.NR, MatMul.NR, 1, MatMul::kernel);
    check(MatMul.NR, 1, KC, MatMul::panelKernel);
  }

  /** Weight (k, r) at wp[k * kStride + r * rStride]: interleaved [k][r] or a row-major panel. */
  private void check(int nr, int kStride, int rStride, Tile tile) {
    int[] lengths = rStride == 1 ? new int[] {1, 3, VL - 1, 37, 256, 301} : new int[] {1, 3, VL - 1, 37, KC};
    for (int kc : lengths) {
      for (boolean accumulate : new boolean[] {false, true}) {
        int xo = 3 * TB;
        int co = 5;
        float[] xt = random(xo + kc * TB + 7);
        float[] wp = random(rStride == 1 ? kc * nr : nr * KC);
        float[] c = random(co + nr * TB + 9);
        float[] before = c.clone();
        tile.run(xt, xo, wp, kc, c, co, accumulate);
        for (int r = 0; r < nr; r++) {
          for (int j = 0; j < TB; j++) {
            double ref = accumulate ? before[co + r * TB + j] : 0;
            for (int k = 0; k < kc; k++) {
              ref += (double) wp[k * kStride + r * rStride] * xt[xo + k * TB + j];
            }
            float got = c[co + r * TB + j];
            assertTrue(Math.abs(ref - got) <= 1e-4 * Math.max(1, Math.abs(ref)),
                "tile " + nr + " kc " + kc + " row " + r + " col " + j + ": " + ref + " vs " + got);
          }
        }
        for (int i = 0; i < co; i++) {
          assertEquals(before[i], c[i], "written before the tile");
        }
        for (int i = co + nr * TB; i < c.length; i++) {
          assertEquals(before[i], c[i], "written after the tile");
        }
      }
    }
  }

  private float[] random(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return v;
  }
}
