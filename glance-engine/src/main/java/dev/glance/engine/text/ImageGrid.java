package dev.glance.engine.text;

/**
 * An image's patch grid as the image processor reports it ({@code image_grid_thw}): temporal,
 * height and width in patches, before the vision merger combines {@code merge × merge} patches into
 * one language-model token.
 */
public record ImageGrid(int t, int h, int w) {

  public ImageGrid {
    if (t <= 0 || h <= 0 || w <= 0) {
      throw new IllegalArgumentException("image grid must be positive, got " + this);
    }
  }

  /**
   * The number of {@code <|image|>} tokens this image occupies in the prompt: {@code t·h·w /
   * merge²}.
   *
   * @throws IllegalArgumentException if the grid is not a whole number of merge blocks
   */
  public int tokenCount(int mergeSize) {
    if (mergeSize <= 0 || h % mergeSize != 0 || w % mergeSize != 0) {
      throw new IllegalArgumentException(
          "image grid " + t + "x" + h + "x" + w + " is not divisible by merge size " + mergeSize);
    }
    return Math.multiplyExact(t, Math.multiplyExact(h / mergeSize, w / mergeSize));
  }
}
