package dev.glance.engine.model;

import dev.glance.engine.image.ImageGrid;
import java.util.List;

/**
 * Test access to the engine's host-side reference computations (package-private there), used as
 * the CPU twins of the device's table and position-embedding kernels.
 */
public final class ModelTwins {
  private ModelTwins() {}

  /** Per patch {row, column, grid rows, grid columns} in pixel-values order. */
  public static int[][] patchCoordinates(List<ImageGrid> grids, int merge) {
    PatchCoordinates p = PatchCoordinates.of(grids, merge);
    return new int[][] {p.h(), p.w(), p.gridH(), p.gridW()};
  }

  public static float[] positionEmbedding(float[] table, int rows, int dim, List<ImageGrid> grids, int merge) {
    return new VisionPositionEmbedding(table, rows, dim).forPatches(PatchCoordinates.of(grids, merge));
  }

  public static void visionRopeTables(int headDim, double theta, List<ImageGrid> grids, int merge, float[] cos,
      float[] sin) {
    new VisionRotary(headDim, theta).tables(PatchCoordinates.of(grids, merge), cos, sin);
  }
}
