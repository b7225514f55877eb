package dev.glance.engine.image;

/** An image's patch grid (t, h, w) in patch units, before spatial merging, as image_grid_thw. */
public record ImageGrid(int t, int h, int w) {
  /** Number of patches (rows of pixel values). */
  public int patches() {
    return t * h * w;
  }

  /** Number of placeholder tokens after merging merge x merge patches into one. */
  public int tokens(int mergeSize) {
    return t * h * w / (mergeSize * mergeSize);
  }
}
