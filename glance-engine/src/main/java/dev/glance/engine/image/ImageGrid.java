package dev.glance.engine.image;

/**
 * The patch grid of one image, in patch units before merging: transformers' {@code image_grid_thw}
 * row. {@code t} is temporal patches (1 for a still image), {@code h} and {@code w} are rows and
 * columns of patch_size-pixel patches.
 */
public record ImageGrid(int t, int h, int w) {

  public ImageGrid {
    if (t <= 0 || h <= 0 || w <= 0) {
      throw new IllegalArgumentException("grid must be positive: " + t + "x" + h + "x" + w);
    }
  }

  /** Patches this image contributes to {@code pixel_values}: t * h * w. */
  public int patches() {
    return t * h * w;
  }

  /**
   * Image placeholder tokens after the merger joins {@code mergeSize x mergeSize} patches:
   * t * h * w / mergeSize^2.
   *
   * @throws IllegalArgumentException if the grid is not a whole number of merge blocks
   */
  public int tokens(int mergeSize) {
    if (mergeSize <= 0 || h % mergeSize != 0 || w % mergeSize != 0) {
      throw new IllegalArgumentException(
          "image grid " + t + "x" + h + "x" + w + " is not divisible by merge size " + mergeSize);
    }
    return Math.multiplyExact(t, Math.multiplyExact(h / mergeSize, w / mergeSize));
  }
}
