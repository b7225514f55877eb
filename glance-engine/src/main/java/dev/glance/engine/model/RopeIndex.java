package dev.glance.engine.model;

import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.image.ImageGrid;
import java.util.List;

/**
 * Position ids (t, h, w rows) of a prompt, as transformers' get_rope_index: text runs advance all
 * three axes together; an image run takes t/h/w from its merged patch grid, starting at the
 * running maximum + 1. ropeDelta shifts decode positions so they continue after the prompt's
 * largest position rather than after its length.
 */
public record RopeIndex(int[][] positions, int ropeDelta) {

  public static RopeIndex of(int[] ids, List<ImageGrid> grids, ModelConfig.TokenIds tokens, int mergeSize) {
    int n = ids.length;
    int[][] pos = new int[3][n];
    if (grids.isEmpty()) {
      for (int i = 0; i < n; i++) {
        pos[0][i] = pos[1][i] = pos[2][i] = i;
      }
      return new RopeIndex(pos, 0);
    }
    int next = 0; // max position so far + 1
    int image = 0;
    boolean inVideo = false;
    int i = 0;
    while (i < n) {
      int id = ids[i];
      if (id == tokens.videoStart()) {
        inVideo = true;
      } else if (id == tokens.videoEnd()) {
        inVideo = false;
      }
      if (id == tokens.image() && !inVideo) {
        if (image >= grids.size()) {
          throw new dev.glance.engine.GlanceException.BadRequest(
              "prompt has more image placeholders than images (" + grids.size() + ")");
        }
        ImageGrid g = grids.get(image++);
        int hm = g.h() / mergeSize;
        int wm = g.w() / mergeSize;
        int count = g.t() * hm * wm;
        int max = next;
        for (int ti = 0; ti < g.t(); ti++) {
          for (int r = 0; r < hm; r++) {
            for (int c = 0; c < wm; c++) {
              int k = i + (ti * hm + r) * wm + c;
              if (k >= n || ids[k] != tokens.image()) {
                throw new dev.glance.engine.GlanceException.BadRequest(
                    "image " + image + " needs " + count + " placeholder tokens at position " + i);
              }
              pos[0][k] = next + ti;
              pos[1][k] = next + r;
              pos[2][k] = next + c;
              max = Math.max(max, Math.max(next + ti, Math.max(next + r, next + c)));
            }
          }
        }
        i += count;
        next = max + 1;
      } else {
        pos[0][i] = pos[1][i] = pos[2][i] = next;
        next++;
        i++;
      }
    }
    if (image != grids.size()) {
      throw new dev.glance.engine.GlanceException.BadRequest(
          grids.size() + " images supplied but the prompt has placeholders for " + image);
    }
    return new RopeIndex(pos, next - n);
  }
}
