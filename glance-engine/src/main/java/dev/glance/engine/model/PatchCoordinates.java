package dev.glance.engine.model;

import dev.glance.engine.image.ImageGrid;
import java.util.List;

/**
 * Each patch's (row, column) in its image's patch grid, and that grid's size, in pixel-values row
 * order: images one after another, 2x2 (merge x merge) blocks in row-major order, and inside a
 * block top-left, top-right, bottom-left, bottom-right. The position embedding and the 2-D rotary
 * both read patches in this order.
 */
record PatchCoordinates(int[] h, int[] w, int[] gridH, int[] gridW) {

  static PatchCoordinates of(List<ImageGrid> grids, int merge) {
    int n = grids.stream().mapToInt(ImageGrid::patches).sum();
    int[] h = new int[n];
    int[] w = new int[n];
    int[] gh = new int[n];
    int[] gw = new int[n];
    int row = 0;
    for (ImageGrid g : grids) {
      for (int t = 0; t < g.t(); t++) {
        for (int bh = 0; bh < g.h() / merge; bh++) {
          for (int bw = 0; bw < g.w() / merge; bw++) {
            for (int mh = 0; mh < merge; mh++) {
              for (int mw = 0; mw < merge; mw++) {
                h[row] = bh * merge + mh;
                w[row] = bw * merge + mw;
                gh[row] = g.h();
                gw[row] = g.w();
                row++;
              }
            }
          }
        }
      }
    }
    return new PatchCoordinates(h, w, gh, gw);
  }

  int size() {
    return h.length;
  }
}
