package dev.glance.engine.image;

import java.util.List;

/**
 * The processor's output for a batch of images: transformers' {@code pixel_values} as a row-major
 * float32 matrix of {@code patches} rows by {@code rowWidth} columns (3 * temporal_patch_size *
 * patch_size^2, i.e. 1176 for GLM-4V), with images concatenated along rows in order, and one
 * {@link ImageGrid} per image ({@code image_grid_thw}).
 *
 * <p>The array is shared, not copied; it is large and consumers read it in place.
 */
public record PixelValues(float[] values, int patches, int rowWidth, List<ImageGrid> grids) {

  public PixelValues {
    grids = List.copyOf(grids);
    if ((long) patches * rowWidth != values.length) {
      throw new IllegalArgumentException("expected " + (long) patches * rowWidth
          + " values for " + patches + " x " + rowWidth + ", got " + values.length);
    }
    int sum = grids.stream().mapToInt(ImageGrid::patches).sum();
    if (sum != patches) {
      throw new IllegalArgumentException(
          "grids account for " + sum + " patches, but there are " + patches);
    }
  }

  /** The value at {@code row}, {@code column}. */
  public float get(int row, int column) {
    return values[row * rowWidth + column];
  }

  @Override
  public String toString() {
    return "PixelValues[" + patches + " x " + rowWidth + ", grids=" + grids + "]";
  }
}
