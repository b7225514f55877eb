package dev.glance.engine.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The image processor settings of a checkpoint ({@code preprocessor_config.json}), with the GLM-4V
 * defaults of spec section 2.1 for absent keys.
 *
 * <p>{@code minPixels}/{@code maxPixels} are pixel counts, stored by transformers as
 * {@code size.shortest_edge}/{@code size.longest_edge} despite the names; the older top-level
 * {@code min_pixels}/{@code max_pixels} keys are accepted too and, as in transformers' backward
 * compatibility code, take precedence when both are present.
 *
 * @param patchSize side of a ViT patch in pixels (14)
 * @param temporalPatchSize frames per temporal patch; a still image is repeated to fill it (2)
 * @param mergeSize side of the square of patches the merger joins into one token (2)
 * @param imageMean per-channel mean (R, G, B), applied after rescaling
 * @param imageStd per-channel standard deviation (R, G, B)
 * @param rescaleFactor multiplier taking 8-bit values to [0, 1] (1/255)
 */
public record PreprocessorConfig(
    int patchSize,
    int temporalPatchSize,
    int mergeSize,
    long minPixels,
    long maxPixels,
    List<Double> imageMean,
    List<Double> imageStd,
    double rescaleFactor,
    boolean doResize,
    boolean doRescale,
    boolean doNormalize,
    boolean doConvertRgb) {

  /** OpenAI CLIP mean, the GLM-4V default. */
  public static final List<Double> CLIP_MEAN = List.of(0.48145466, 0.4578275, 0.40821073);

  /** OpenAI CLIP standard deviation, the GLM-4V default. */
  public static final List<Double> CLIP_STD = List.of(0.26862954, 0.26130258, 0.27577711);

  /** The only resampling filter implemented: PIL's BICUBIC. */
  public static final int PIL_BICUBIC = 3;

  public PreprocessorConfig {
    imageMean = List.copyOf(imageMean);
    imageStd = List.copyOf(imageStd);
    if (patchSize <= 0 || temporalPatchSize <= 0 || mergeSize <= 0) {
      throw new IllegalArgumentException("patch_size, temporal_patch_size and merge_size must be"
          + " positive: " + patchSize + ", " + temporalPatchSize + ", " + mergeSize);
    }
    if (minPixels <= 0 || maxPixels < minPixels) {
      throw new IllegalArgumentException("need 0 < min_pixels <= max_pixels, got " + minPixels
          + " and " + maxPixels);
    }
    if (imageMean.size() != 3 || imageStd.size() != 3) {
      throw new IllegalArgumentException("image_mean and image_std need 3 values (R, G, B), got "
          + imageMean + " and " + imageStd);
    }
    for (double s : imageStd) {
      if (!(s > 0) || Double.isInfinite(s)) {
        throw new IllegalArgumentException("image_std values must be positive, got " + imageStd);
      }
    }
    if (!(rescaleFactor > 0) || Double.isInfinite(rescaleFactor)) {
      throw new IllegalArgumentException("rescale_factor must be positive, got " + rescaleFactor);
    }
  }

  /** The GLM-4V processor defaults (spec 2.1). */
  public static PreprocessorConfig defaults() {
    return new PreprocessorConfig(14, 2, 2, 12544, 9633792, CLIP_MEAN, CLIP_STD, 1 / 255.0,
        true, true, true, true);
  }

  /**
   * The same settings with another pixel ceiling for resizing, e.g. a request's own
   * {@code max_pixels}; it must not be below {@link #minPixels()}.
   *
   * @throws IllegalArgumentException if {@code newMaxPixels < minPixels()}
   */
  public PreprocessorConfig withMaxPixels(long newMaxPixels) {
    return new PreprocessorConfig(patchSize, temporalPatchSize, mergeSize, minPixels, newMaxPixels,
        imageMean, imageStd, rescaleFactor, doResize, doRescale, doNormalize, doConvertRgb);
  }

  /** Side length target sizes are multiples of: patch_size * merge_size (28). */
  public int factor() {
    return patchSize * mergeSize;
  }

  /** Values per {@code pixel_values} row: 3 * temporal_patch_size * patch_size^2 (1176). */
  public int rowWidth() {
    return 3 * temporalPatchSize * patchSize * patchSize;
  }

  /** Reads {@code preprocessor_config.json}; errors name the file. */
  public static PreprocessorConfig load(Path file) {
    String json;
    try {
      json = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new GlanceException.ModelLoad("Preprocessor config " + file + " does not exist", e);
    } catch (IOException e) {
      throw new GlanceException.ModelLoad(
          "Preprocessor config " + file + " cannot be read: " + e.getMessage(), e);
    }
    return parse(json, file.toString());
  }

  /** Parses the JSON text of a preprocessor config; {@code source} names it in errors. */
  public static PreprocessorConfig parse(String json, String source) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new GlanceException.ModelLoad("Preprocessor config " + source + " is not valid JSON: "
          + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new GlanceException.ModelLoad(
          "Preprocessor config " + source + " must be a JSON object");
    }
    Reader r = new Reader(root, source);
    PreprocessorConfig d = defaults();
    long resample = r.integer(root, "resample", PIL_BICUBIC);
    if (resample != PIL_BICUBIC) {
      throw new GlanceException.Unsupported("Preprocessor config " + source + " asks for resample="
          + resample + "; only " + PIL_BICUBIC + " (BICUBIC) is implemented");
    }
    JsonNode size = root.get("size");
    if (size != null && !size.isNull() && !size.isObject()) {
      throw r.bad("size", "an object with shortest_edge and longest_edge");
    }
    long minPixels = d.minPixels();
    long maxPixels = d.maxPixels();
    if (size != null && size.isObject()) {
      minPixels = r.integer(size, "shortest_edge", minPixels);
      maxPixels = r.integer(size, "longest_edge", maxPixels);
    }
    minPixels = r.integer(root, "min_pixels", minPixels);
    maxPixels = r.integer(root, "max_pixels", maxPixels);
    try {
      return new PreprocessorConfig(
          r.small("patch_size", d.patchSize()),
          r.small("temporal_patch_size", d.temporalPatchSize()),
          r.small("merge_size", d.mergeSize()),
          minPixels,
          maxPixels,
          r.triple("image_mean", d.imageMean()),
          r.triple("image_std", d.imageStd()),
          r.number("rescale_factor", d.rescaleFactor()),
          r.flag("do_resize", d.doResize()),
          r.flag("do_rescale", d.doRescale()),
          r.flag("do_normalize", d.doNormalize()),
          r.flag("do_convert_rgb", d.doConvertRgb()));
    } catch (IllegalArgumentException e) {
      throw new GlanceException.ModelLoad(
          "Preprocessor config " + source + " is inconsistent: " + e.getMessage(), e);
    }
  }

  /** Typed key access that reports the file and key of a wrong value. Null means absent. */
  private record Reader(JsonNode root, String source) {

    long integer(JsonNode node, String key, long fallback) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        return fallback;
      }
      // Python writes 12544 but a hand-edited file may say 12544.0: accept integral numbers.
      if (v.isIntegralNumber() && v.canConvertToLong()) {
        return v.longValue();
      }
      if (v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue())
          && Math.abs(v.doubleValue()) < 1e15) {
        return (long) v.doubleValue();
      }
      throw bad(key, "an integer");
    }

    /** A size setting: a positive integer small enough that products of them fit an int. */
    int small(String key, int fallback) {
      long v = integer(root, key, fallback);
      if (v < 1 || v > 1024) {
        throw bad(key, "an integer in 1..1024");
      }
      return (int) v;
    }

    double number(String key, double fallback) {
      JsonNode v = root.get(key);
      if (v == null || v.isNull()) {
        return fallback;
      }
      if (!v.isNumber()) {
        throw bad(key, "a number");
      }
      return v.doubleValue();
    }

    boolean flag(String key, boolean fallback) {
      JsonNode v = root.get(key);
      if (v == null || v.isNull()) {
        return fallback;
      }
      if (!v.isBoolean()) {
        throw bad(key, "true or false");
      }
      return v.booleanValue();
    }

    List<Double> triple(String key, List<Double> fallback) {
      JsonNode v = root.get(key);
      if (v == null || v.isNull()) {
        return fallback;
      }
      // transformers also allows one number for all channels.
      if (v.isNumber()) {
        return List.of(v.doubleValue(), v.doubleValue(), v.doubleValue());
      }
      if (!v.isArray() || v.size() != 3) {
        throw bad(key, "a list of 3 numbers (R, G, B)");
      }
      List<Double> out = new ArrayList<>(3);
      for (JsonNode e : v) {
        if (!e.isNumber()) {
          throw bad(key, "a list of 3 numbers (R, G, B)");
        }
        out.add(e.doubleValue());
      }
      return out;
    }

    GlanceException.ModelLoad bad(String key, String expected) {
      return new GlanceException.ModelLoad("Preprocessor config " + source + ": \"" + key
          + "\" must be " + expected + ", got " + root.findValue(key));
    }
  }
}
