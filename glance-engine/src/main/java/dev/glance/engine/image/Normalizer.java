package dev.glance.engine.image;

/**
 * Rescale + normalise (spec section 2.4) as per-channel lookup tables: each output value depends
 * only on the channel and the 8-bit input, so 3 x 256 floats computed once replace per-pixel
 * arithmetic while staying bit-identical to it.
 *
 * <p>The arithmetic is that of transformers' torchvision processor, which produced the reference
 * fixtures (and is the transformers 5 default): rescale and normalise fused, in float32, as
 * {@code (x - mean * (1/rescale)) / (std * (1/rescale))} with mean and std first rounded to
 * float32. The numpy "slow" processor differs from it by about one float32 ulp.
 */
final class Normalizer {

  private Normalizer() {}

  /** {@code table[c][v]}: the normalised value of 8-bit value {@code v} in channel {@code c}. */
  static float[][] tables(PreprocessorConfig config) {
    float[][] table = new float[3][256];
    // torch multiplies a float32 tensor by a Python float in float32.
    float inverse = (float) (1.0 / config.rescaleFactor());
    float rescale = (float) config.rescaleFactor();
    for (int c = 0; c < 3; c++) {
      float mean = (float) (double) config.imageMean().get(c);
      float std = (float) (double) config.imageStd().get(c);
      for (int v = 0; v < 256; v++) {
        float x = v;
        if (config.doRescale() && config.doNormalize()) {
          table[c][v] = (x - mean * inverse) / (std * inverse);
        } else if (config.doRescale()) {
          table[c][v] = x * rescale;
        } else if (config.doNormalize()) {
          table[c][v] = (x - mean) / std;
        } else {
          table[c][v] = x;
        }
      }
    }
    return table;
  }
}
