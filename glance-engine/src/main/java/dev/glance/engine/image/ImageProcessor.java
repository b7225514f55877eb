package dev.glance.engine.image;

import dev.glance.engine.GlanceException;
import java.util.ArrayList;
import java.util.List;

/**
 * GLM-4V's image processor: decoded RGB images in, {@code pixel_values} and
 * {@code image_grid_thw} out, as transformers computes them (spec sections 2.2 to 2.5).
 *
 * <p>Per image: {@link SmartResize} picks a size that is a multiple of 28, {@link
 * BicubicResampler} resizes to it, {@link Normalizer} rescales and normalises, and the result is
 * cut into patches. The still image is repeated to fill {@code temporal_patch_size} frames; rows
 * are patches in the order (t, block row, block column, row in block, column in block), so that
 * each {@code merge_size x merge_size} block of patches is contiguous for the merger; columns are
 * (channel, frame, y in patch, x in patch), the flattening of the Conv3d patch-embedding kernel.
 * Multiple images are concatenated along rows. Instances are immutable and thread-safe.
 */
public final class ImageProcessor {

  private final PreprocessorConfig config;
  private final float[][] tables;

  public ImageProcessor(PreprocessorConfig config) {
    this.config = config;
    this.tables = Normalizer.tables(config);
  }

  public PreprocessorConfig config() {
    return config;
  }

  /**
   * A processor that resizes to at most {@code maxPixels} (counted as {@link SmartResize} counts
   * them) instead of the configured ceiling; used for a request's own, lower {@code max_pixels}.
   *
   * @throws IllegalArgumentException if {@code maxPixels} is below the configured minimum
   */
  public ImageProcessor withMaxPixels(long maxPixels) {
    return maxPixels == config.maxPixels() ? this : new ImageProcessor(config.withMaxPixels(maxPixels));
  }

  /** The size an image of {@code width} x {@code height} is resized to before patching. */
  public SmartResize.Size targetSize(int width, int height) {
    if (!config.doResize()) {
      int f = config.factor();
      if (width % f != 0 || height % f != 0) {
        throw new GlanceException.BadImage("Image of " + width + "x" + height
            + " cannot be used unresized (do_resize is false): both sides must be multiples of "
            + f);
      }
      return new SmartResize.Size(height, width);
    }
    return SmartResize.of(height, width, config.factor(), config.minPixels(),
        config.maxPixels(), config.temporalPatchSize());
  }

  /**
   * The patch grid an image of {@code width} x {@code height} will get, without processing it:
   * enough to count its placeholder tokens ({@link ImageGrid#tokens(int)}).
   */
  public ImageGrid grid(int width, int height) {
    return gridOf(targetSize(width, height));
  }

  private ImageGrid gridOf(SmartResize.Size size) {
    return new ImageGrid(1, size.height() / config.patchSize(), size.width() / config.patchSize());
  }

  /** Processes one image. */
  public PixelValues process(RgbImage image) {
    return process(List.of(image));
  }

  /** Processes images in order, concatenating their patches. */
  public PixelValues process(List<RgbImage> images) {
    if (images.isEmpty()) {
      throw new IllegalArgumentException("no images to process");
    }
    List<RgbImage> resized = new ArrayList<>(images.size());
    List<ImageGrid> grids = new ArrayList<>(images.size());
    long patches = 0;
    for (RgbImage image : images) {
      SmartResize.Size size = targetSize(image.width(), image.height());
      resized.add(size.width() == image.width() && size.height() == image.height()
          ? image
          : BicubicResampler.resize(image, size.width(), size.height()));
      ImageGrid grid = gridOf(size);
      grids.add(grid);
      patches += grid.patches();
    }
    int rowWidth = config.rowWidth();
    if (patches * rowWidth > Integer.MAX_VALUE - 8) {
      throw new GlanceException.BadImage("Images need " + patches
          + " patches in all, too many to hold at once; send fewer or smaller images");
    }
    float[] values = new float[(int) patches * rowWidth];
    int row = 0;
    for (int i = 0; i < resized.size(); i++) {
      row = writePatches(resized.get(i), grids.get(i), values, row);
    }
    return new PixelValues(values, (int) patches, rowWidth, grids);
  }

  /** Writes one image's patches from row {@code firstRow}; returns the next free row. */
  private int writePatches(RgbImage image, ImageGrid grid, float[] values, int firstRow) {
    int p = config.patchSize();
    int m = config.mergeSize();
    int frames = config.temporalPatchSize();
    int plane = p * p; // values of one channel of one frame of a patch
    int rowWidth = config.rowWidth();
    int width = image.width();
    byte[] rgb = image.rgb();
    int row = firstRow;
    // A still image has grid t = 1: its frames are all the same picture.
    for (int bh = 0; bh < grid.h() / m; bh++) {
      for (int bw = 0; bw < grid.w() / m; bw++) {
        for (int mh = 0; mh < m; mh++) {
          for (int mw = 0; mw < m; mw++, row++) {
            int y0 = (bh * m + mh) * p;
            int x0 = (bw * m + mw) * p;
            int base = row * rowWidth;
            for (int c = 0; c < 3; c++) {
              float[] table = tables[c];
              int slab = base + c * frames * plane;
              int o = slab;
              for (int py = 0; py < p; py++) {
                int s = ((y0 + py) * width + x0) * 3 + c;
                for (int px = 0; px < p; px++, s += 3) {
                  values[o++] = table[rgb[s] & 0xFF];
                }
              }
              for (int t = 1; t < frames; t++) {
                System.arraycopy(values, slab, values, slab + t * plane, plane);
              }
            }
          }
        }
      }
    }
    return row;
  }
}
