package dev.glance.server.api;

import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.io.GenerationConfig;
import dev.glance.server.ServedModel;
import dev.glance.server.ServerConfig;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The sampling and length fields both APIs share: {@code max_tokens}, {@code temperature},
 * {@code top_p}, {@code top_k}, {@code seed}, {@code repetition_penalty}, {@code stop},
 * {@code ignore_eos} and {@code max_pixels}. Fields left out take the checkpoint's
 * generation_config.json values when it asks to sample, else greedy decoding, as {@code glance
 * ask} does.
 */
final class SamplingFields {
  static final int MAX_STOP_STRINGS = 16;
  static final int MAX_STOP_LENGTH = 256;

  private SamplingFields() {}

  /** The parsed sampling parameters and whether max_tokens was given. */
  record Parsed(SamplingParams params, boolean explicitMaxTokens) {}

  static Parsed parse(JsonFields f, OptionalLong maxTokens, String maxTokensParam, ServedModel model,
      ServerConfig config) {
    int limit = config.maxTokensLimit();
    int max;
    if (maxTokens.isPresent()) {
      long asked = maxTokens.getAsLong();
      if (asked < 1 || asked > limit) {
        throw new ApiError.InvalidRequest(maxTokensParam + " must be between 1 and " + limit
            + " (the server's --max-tokens-limit), got " + asked, maxTokensParam);
      }
      max = (int) asked;
    } else {
      max = Math.min(limit, model.contextLength());
    }
    GenerationConfig g = model.defaults();
    boolean sample = g.doSample();
    OptionalDouble t = f.number("temperature");
    double temperature = t.isPresent() ? t.getAsDouble()
        : sample && !Double.isNaN(g.temperature()) ? g.temperature() : 0.0;
    if (temperature < 0 || temperature > SamplingParams.MAX_TEMPERATURE) {
      throw new ApiError.InvalidRequest(f.pathOf("temperature") + " must be between 0 and "
          + SamplingParams.MAX_TEMPERATURE + " (0 = greedy), got " + temperature, f.pathOf("temperature"));
    }
    OptionalDouble p = f.number("top_p");
    double topP = p.isPresent() ? p.getAsDouble() : sample && !Double.isNaN(g.topP()) ? g.topP() : 1.0;
    if (!(topP > 0 && topP <= 1)) {
      throw new ApiError.InvalidRequest(f.pathOf("top_p") + " must be greater than 0 and at most 1, got "
          + topP, f.pathOf("top_p"));
    }
    OptionalInt k = f.intInRange("top_k", -1, Integer.MAX_VALUE, "-1 or 0 (off) or a positive integer");
    int topK = k.isPresent() ? Math.max(0, k.getAsInt()) : sample ? g.topK() : 0;
    OptionalLong seed = f.integer("seed");
    OptionalDouble rp = f.number("repetition_penalty");
    double penalty = rp.isPresent() ? rp.getAsDouble()
        : !Double.isNaN(g.repetitionPenalty()) ? g.repetitionPenalty() : 1.0;
    if (!(penalty > 0)) {
      throw new ApiError.InvalidRequest(f.pathOf("repetition_penalty") + " must be greater than 0 (1 = off), got "
          + penalty, f.pathOf("repetition_penalty"));
    }
    List<String> stop = f.stringOrList("stop");
    if (stop.size() > MAX_STOP_STRINGS) {
      throw new ApiError.InvalidRequest(f.pathOf("stop") + " may hold at most " + MAX_STOP_STRINGS
          + " strings, got " + stop.size(), f.pathOf("stop"));
    }
    for (int i = 0; i < stop.size(); i++) {
      String s = stop.get(i);
      if (s.isEmpty() || s.length() > MAX_STOP_LENGTH) {
        throw new ApiError.InvalidRequest(f.pathOf("stop") + "[" + i + "] must be 1 to " + MAX_STOP_LENGTH
            + " characters long, got " + s.length(), f.pathOf("stop"));
      }
    }
    boolean ignoreEos = f.bool("ignore_eos").orElse(false);
    try {
      return new Parsed(new SamplingParams(temperature, topP, topK, seed, penalty, max, stop, ignoreEos),
          maxTokens.isPresent());
    } catch (GlanceException.BadRequest e) {
      throw new ApiError.InvalidRequest(e.getMessage(), null);
    }
  }

  /** The request's {@code max_pixels}, bounded by the checkpoint's minimum and the server's maximum. */
  static OptionalLong maxPixels(JsonFields f, ServedModel model) {
    OptionalLong v = f.integer("max_pixels");
    if (v.isEmpty()) {
      return OptionalLong.of(model.maxPixels());
    }
    long m = v.getAsLong();
    if (m < model.minPixels() || m > model.maxPixels()) {
      throw new ApiError.InvalidRequest(f.pathOf("max_pixels") + " must be between " + model.minPixels()
          + " (the checkpoint's min_pixels) and " + model.maxPixels() + " (the server's max_pixels), got " + m,
          f.pathOf("max_pixels"));
    }
    return v;
  }
}
